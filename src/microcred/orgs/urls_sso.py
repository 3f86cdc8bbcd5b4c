"""Single sign-on set-up pages under /manage/sso/ (names in the `orgs` namespace), and
microcred's OpenID Connect callback, which the IdP's administrators register."""

from django.urls import path

from . import views_sso

urlpatterns = [
    path("", views_sso.idp_list, name="sso"),
    path("new/", views_sso.idp_create, name="sso_create"),
    path("<int:pk>/", views_sso.idp_edit, name="sso_edit"),
    path("oidc/<str:provider_id>/callback/", views_sso.oidc_callback, name="sso_oidc_callback"),
]
