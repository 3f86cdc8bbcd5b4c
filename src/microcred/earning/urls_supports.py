"""Earner supports: self-assessment, learning plan, and the principal's sign-off queue.
Included from earning/urls.py, so the names live in the "earning" namespace."""

from django.urls import path

from . import views_supports as views

urlpatterns = [
    path("self-assessment/<int:version_pk>/", views.self_assessment, name="self_assessment"),
    path("plan/", views.plan, name="plan"),
    path("plan/send/", views.plan_send, name="plan_send"),
    path("plan/goals/<int:goal_pk>/", views.goal_edit, name="goal_edit"),
    path("plan/goals/<int:goal_pk>/remove/", views.goal_remove, name="goal_remove"),
    path("plans/sign-off/", views.plans_to_sign_off, name="plans_to_sign_off"),
    path("plans/sign-off/<int:plan_pk>/", views.plan_review, name="plan_review"),
]
