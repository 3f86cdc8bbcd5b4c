from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("organizations/new/", views.organization_create, name="create"),
    path("organizations/<slug:slug>/", views.organization_detail, name="detail"),
    path("organizations/<slug:slug>/edit/", views.organization_edit, name="edit"),
    path("organizations/<slug:slug>/people/add/", views.membership_add, name="membership_add"),
    path(
        "organizations/<slug:slug>/people/<int:pk>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("audit/", views.audit, name="audit"),
    path("import/", views.import_start, name="import"),
    path("import/template/<slug:kind>.csv", views.import_template, name="import_template"),
    path("import/<str:token>/", views.import_review, name="import_review"),
]
