from django.urls import path

from . import views, views_issued

app_name = "credentials"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("status/<uuid:list_uuid>", views.status_list, name="status_list"),
    path("issuers/", views.issuer_list, name="issuers"),
    path("issuers/issued/", views_issued.issued_list, name="issued"),
    path("issuers/<slug:slug>/", views.issuer_detail, name="issuer"),
    path("issuers/<slug:slug>/set-up/", views.issuer_setup, name="issuer_setup"),
    path("issuers/<slug:slug>/edit/", views.issuer_edit, name="issuer_edit"),
    path("issuers/<slug:slug>/keys/rotate/", views.key_rotate, name="key_rotate"),
    # did:web puts the document at <identifier path>/did.json.
    path("issuers/<slug:slug>/did.json", views.did_document, name="did_document"),
    path("issuers/<slug:slug>/profile.json", views.issuer_profile_json, name="profile_json"),
    path("credentials/mine/", views.my_credentials, name="mine"),
    path("credentials/mine/record.json", views.my_record, name="my_record"),
    path("credentials/<uuid:credential_uuid>", views.credential_detail, name="credential"),
    path("credentials/<uuid:credential_uuid>.json", views.credential_json, name="credential_json"),
    path(
        "credentials/<uuid:credential_uuid>/certificate",
        views.credential_certificate,
        name="credential_certificate",
    ),
    *(
        path(
            f"credentials/<uuid:credential_uuid>/badge.{kind}",
            views.credential_image,
            {"kind": kind},
            name=f"credential_{kind}",
        )
        for kind in views.BAKED
    ),
    path(
        "credentials/<uuid:credential_uuid>/visibility",
        views.credential_visibility,
        name="credential_visibility",
    ),
    path(
        "credentials/<uuid:credential_uuid>/revoke",
        views.credential_revoke,
        name="credential_revoke",
    ),
]
