"""LTI 1.3 endpoints and pages, under /lti/ (names in the `lti` namespace)."""

from django.urls import path

from . import views

app_name = "lti"
urlpatterns = [
    path("jwks/", views.jwks, name="jwks"),
    path("login/", views.oidc_login, name="login"),
    path("launch/", views.launch_view, name="launch"),
    path("continue/<str:token>/", views.continue_in_tab, name="continue"),
    path("deep-link/<str:token>/", views.deep_link, name="deep_link"),
    path("register/", views.register, name="register"),
    path("platforms/", views.platform_list, name="platforms"),
    path("platforms/new/", views.platform_new, name="platform_new"),
    path("platforms/<int:pk>/", views.platform_detail, name="platform"),
    path("platforms/<int:pk>/edit/", views.platform_edit, name="platform_edit"),
    path("platforms/<int:pk>/courses/<str:context_id>/", views.course, name="course"),
]
