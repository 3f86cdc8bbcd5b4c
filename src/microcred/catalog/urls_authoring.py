from django.urls import path

from . import views_authoring as views

app_name = "authoring"
urlpatterns = [
    path("", views.work_list, name="list"),
    path("providers/<int:provider_pk>/new/", views.create, name="create"),
    path("providers/<int:provider_pk>/stacks/new/", views.stack_create, name="stack_create"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/edit/", views.edit, name="edit"),
    path("versions/<int:pk>/preview/", views.preview, name="preview"),
    path("versions/<int:pk>/submit/", views.submit, name="submit"),
    path("versions/<int:pk>/publish/", views.publish, name="publish"),
    path("versions/<int:pk>/retire/", views.retire, name="retire"),
    path("micro-credentials/<int:pk>/new-version/", views.new_version, name="new_version"),
    path("stacks/<int:pk>/edit/", views.stack_edit, name="stack_edit"),
    path("stacks/<int:pk>/publish/", views.stack_publish, name="stack_publish"),
]
