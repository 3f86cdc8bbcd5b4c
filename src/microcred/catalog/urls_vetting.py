from django.urls import path

from . import views_vetting as views

app_name = "vetting"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("versions/<int:pk>/", views.review, name="review"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/versions/<int:pk>/", views.approval_detail, name="approval"),
    path("approvals/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
