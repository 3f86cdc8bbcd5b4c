from django.urls import path

from . import urls_calibration, urls_pay, urls_reliability, views, views_policy

app_name = "assessment"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("assignments/<int:pk>/", views.score, name="score"),
    path("assignments/<int:pk>/decline/", views.decline, name="decline"),
    path("me/", views.me, name="me"),
    path("me/pause/", views.pause, name="pause"),
    path("assessors/", views.profiles, name="profiles"),
    path("assessors/new/", views.profile_edit, name="profile_new"),
    path("assessors/<int:pk>/", views.profile_edit, name="profile_edit"),
    path("unassigned/", views.unassigned, name="unassigned"),
    path("unassigned/<int:pk>/assign/", views.assign_now, name="assign_now"),
    path("unassigned/plan/", views.plan_backlog, name="plan_backlog"),
    path("policies/", views_policy.policies, name="policies"),
    path("policies/<int:pk>/", views_policy.policy_edit, name="policy_edit"),
]
urlpatterns += urls_calibration.urlpatterns + urls_reliability.urlpatterns + urls_pay.urlpatterns
