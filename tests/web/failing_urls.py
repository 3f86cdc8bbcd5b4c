"""A URLconf for tests of the error pages: the site's own addresses (the layout links to
them) plus two views that fail on purpose. Use with @pytest.mark.urls("tests.web.failing_urls")."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from microcred.urls import urlpatterns as site_urlpatterns

FORBIDDEN = "/test-only/forbidden/"
BROKEN = "/test-only/broken/"
BUG = "a bug in a view"


def refuse_everyone(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def break_down(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(BUG)


urlpatterns = [
    path(FORBIDDEN.removeprefix("/"), refuse_everyone),
    path(BROKEN.removeprefix("/"), break_down),
    *site_urlpatterns,
]
