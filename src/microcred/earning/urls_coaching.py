"""Coaching pages, in the `earning` namespace under /earn/coaching/."""

from django.urls import URLPattern, path

from . import views_coaching as views

urlpatterns: list[URLPattern] = [
    path("", views.caseload, name="caseload"),
    path("my-coach/", views.my_coach, name="my_coach"),
    path("assign/", views.assign, name="assign_coach"),
    path("relationships/<int:pk>/end/", views.end, name="end_coaching"),
    path("attempts/<uuid:attempt_uuid>/", views.shared_draft, name="shared_draft"),
    path("attempts/<uuid:attempt_uuid>/comments/", views.comment, name="comment_on_draft"),
    path("comments/<int:pk>/resolve/", views.resolve, name="resolve_comment"),
    path("<int:earner_id>/", views.coachee, name="coachee"),
]
