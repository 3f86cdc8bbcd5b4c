from django.urls import path

from . import views_ob2

app_name = "ob2"
urlpatterns = [
    path("assertions/<uuid:credential_uuid>", views_ob2.assertion, name="assertion"),
    path("badges/<uuid:credential_uuid>", views_ob2.badge, name="badge"),
    path("badges/<uuid:credential_uuid>/image.svg", views_ob2.image, name="image"),
    path("issuers/<slug:slug>", views_ob2.issuer, name="issuer"),
    path("issuers/<slug:slug>/revocations", views_ob2.revocations, name="revocations"),
]
