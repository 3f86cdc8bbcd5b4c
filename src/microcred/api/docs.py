"""The API's documentation page: Swagger UI served from our own static files.

django-ninja's default page loads Swagger UI from a CDN (a floating version, no integrity hash)
unless ninja is an installed app; and its own template pastes the settings into the page
unescaped. This one uses the copy ninja ships in its wheel (exposed as `vendor/swagger` in
STATICFILES_DIRS), passes the settings as a JSON data block and runs no inline script, so the
site's Content-Security-Policy holds on it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger, _csrf_needed

if TYPE_CHECKING:
    from ninja import NinjaAPI


class LocalSwagger(Swagger):
    template = "api/docs.html"
    # Deep links make each operation's path a link inside the button that opens it: nested
    # controls and tiny touch targets that fail WCAG (axe's nested-interactive, target-size).
    default_settings = {**Swagger.default_settings, "deepLinking": False}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "swagger_settings": swagger_settings,
            "api": api,
            "add_csrf": _csrf_needed(api),
        }
        return render(request, self.template, context)
