"""Routes of calibration pages (included by assessment/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_calibration as views

urlpatterns: list[URLPattern] = [
    path(
        "anchor-consent/<uuid:submission_uuid>/",
        views.anchor_consent,
        name="anchor_consent",
    ),
    path("calibration/", views.calibration_sets, name="calibration_sets"),
    path("calibration/<int:pk>/", views.calibration_set, name="calibration_set"),
    path("calibration/<int:pk>/retire/", views.retire_set, name="calibration_set_retire"),
    path("calibration/<int:pk>/write/", views.write_anchor, name="calibration_anchor_write"),
    path(
        "calibration/anchors/<int:pk>/remove/",
        views.remove_anchor,
        name="calibration_anchor_remove",
    ),
    path("calibration/rounds/<int:pk>/", views.calibration_round, name="calibration_round"),
    path("me/calibration/", views.my_calibration, name="my_calibration"),
    path("assessors/<int:pk>/qualifications/", views.qualifications, name="qualifications"),
]
