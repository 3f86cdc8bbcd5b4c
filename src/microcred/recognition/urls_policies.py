"""Routes of this area of recognition (see urls.py): an office's policies and their versions."""

from django.urls import URLPattern, path

from . import views_policies as views

urlpatterns: list[URLPattern] = [
    path("policies/", views.policies, name="policies"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:pk>/", views.policy, name="policy"),
    path("policies/<int:pk>/rules/", views.policy_rule_add, name="policy_rule_add"),
    path(
        "policies/<int:pk>/rules/<int:rule_pk>/remove/",
        views.policy_rule_remove,
        name="policy_rule_remove",
    ),
    path("policies/<int:pk>/activate/", views.policy_activate, name="policy_activate"),
    path("policies/<int:pk>/new-version/", views.policy_new_version, name="policy_new_version"),
    path("policies/<int:pk>/end/", views.policy_retire, name="policy_retire"),
]
