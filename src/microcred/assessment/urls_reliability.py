"""Routes of reliability pages (included by assessment/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_reliability as views

urlpatterns: list[URLPattern] = [
    path("reliability/", views.reliability, name="reliability"),
    path("reliability/export.csv", views.reliability_csv, name="reliability_csv"),
    path("reliability/assessors/<int:pk>/", views.assessor, name="reliability_assessor"),
    path("reliability/flags/", views.drift_flags, name="drift_flags"),
    path("reliability/flags/<int:pk>/clear/", views.clear_flag, name="clear_drift_flag"),
    path("me/reliability/", views.my_reliability, name="my_reliability"),
]
