from django.urls import include, path

from . import views, views_did, views_tokens

app_name = "orgs"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("programs/", include("microcred.orgs.urls_programs")),
    path("sso/", include("microcred.orgs.urls_sso")),
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
    path("tokens/", views_tokens.api_tokens, name="api_tokens"),
    path("my-did/", views_did.my_did, name="my_did"),
    path("tokens/<int:pk>/revoke/", views_tokens.revoke_api_token, name="revoke_api_token"),
    path("import/", views.import_start, name="import"),
    path("import/template/<slug:kind>.csv", views.import_template, name="import_template"),
    path("import/oneroster/<slug:slug>.zip", views.roster_export, name="roster_export"),
    path("import/<str:token>/", views.import_review, name="import_review"),
]
