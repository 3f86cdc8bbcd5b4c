"""/accounts/: allauth's pages (sign-in, sign-up, email, password, two-step sign-in, social
accounts) and the single sign-on endpoints of its SAML and OpenID Connect providers.

allauth.urls would import the providers' view modules with the URL table (see web/lazy.py);
here the same paths and names route to views loaded on their first request. Only the two
providers microcred configures are routed (settings.INSTALLED_APPS);
tests/orgs/test_sso_urls.py checks the table against allauth.urls.
"""

from allauth.socialaccount import app_settings as social_settings
from django.urls import include, path, re_path

from microcred.web.lazy import lazy_view

SAML = "allauth.socialaccount.providers.saml.views"
OIDC = "allauth.socialaccount.providers.openid_connect.views"

saml_patterns = [
    path("acs/", lazy_view(f"{SAML}:acs", csrf_exempt=True), name="saml_acs"),
    path("acs/finish/", lazy_view(f"{SAML}:finish_acs"), name="saml_finish_acs"),
    path("sls/", lazy_view(f"{SAML}:sls", csrf_exempt=True), name="saml_sls"),
    path("metadata/", lazy_view(f"{SAML}:metadata"), name="saml_metadata"),
    path("login/", lazy_view(f"{SAML}:login"), name="saml_login"),
]
oidc_patterns = [
    path("login/", lazy_view(f"{OIDC}:login"), name="openid_connect_login"),
    path("login/callback/", lazy_view(f"{OIDC}:callback"), name="openid_connect_callback"),
]

urlpatterns = [
    path("", include("allauth.account.urls")),
    path("2fa/", include("allauth.mfa.urls")),
    path("3rdparty/", include("allauth.socialaccount.urls")),
    re_path(r"^saml/(?P<organization_slug>[^/]+)/", include(saml_patterns)),
    path(
        f"{social_settings.OPENID_CONNECT_URL_PREFIX}/<str:provider_id>/",
        include(oidc_patterns),
    ),
]
