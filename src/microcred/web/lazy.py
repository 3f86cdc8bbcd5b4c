"""Views whose modules load on their first request, not when the URL table is built.

Building the URL table (which every page's {% url %} does) imports every routed view module.
allauth's SAML and OpenID Connect views bring python3-saml, lxml, xmlsec and requests, tens of
megabytes a web process serving pages never needs (tests/web/test_import_weight.py); they are
routed through `lazy_view` instead, under allauth's own names and paths.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt as exempt_from_csrf

View = Callable[..., HttpResponse]


def lazy_view(target: str, *, csrf_exempt: bool = False) -> View:
    """`target` is "module:attribute". The CSRF middleware reads the exemption before the
    view runs, so a view that is exempt (an IdP posting a SAML response) must say so here;
    tests/orgs/test_sso_urls.py checks each against the real view."""

    @cache
    def load() -> View:
        module, attribute = target.split(":")
        return getattr(import_module(module), attribute)

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return load()(request, *args, **kwargs)

    view.lazy_target = target  # type: ignore[attr-defined]
    return exempt_from_csrf(view) if csrf_exempt else view
