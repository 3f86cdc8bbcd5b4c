from __future__ import annotations

import threading
from importlib import import_module
from typing import Any

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from django.urls.resolvers import RoutePattern, URLResolver
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language


def _reverse_only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    # Never reached while the API serves the same path (it is matched first); a 404 if the
    # API stops serving it.
    raise Http404


class LazyURLResolver(URLResolver):
    """Mounts a URLconf whose patterns are built only when something needs them.

    The API (django-ninja, pydantic, and django.test, which ninja imports) costs a web worker
    tens of megabytes that a process serving pages never uses (issue 8). Its patterns load on
    the first request below the prefix, on the first reverse() of one of its names, and for
    the system checks; building the site's own reverse table (which every {% url %} does)
    leaves them alone, so pages link to the API documentation by the root-level name
    "api_docs" instead of reversing into the API's namespace.
    """

    def __init__(self, route: str, target: str, *, app_name: str, namespace: str) -> None:
        super().__init__(
            RoutePattern(route, is_endpoint=False),
            target,
            app_name=app_name,
            namespace=namespace,
        )
        # "module:attribute" of an object with a Django `urls` triple (a NinjaAPI).
        self._target = target
        self._patterns: list[Any] | None = None
        # Reentrant: importing the API may reverse a URL, which populates this resolver again.
        self._load_lock = threading.RLock()

    @property
    def url_patterns(self) -> list[Any]:  # type: ignore[override]
        # Reached by resolve() below the prefix, by reverse() into the namespace (Django's
        # get_ns_resolver reads it) and by check(): each of them needs the real patterns.
        if self._patterns is None:
            with self._load_lock:
                if self._patterns is None:
                    self._patterns = self._load()
                    # What _populate() cached while unloaded was empty: forget it.
                    self._reverse_dict.clear()
                    self._namespace_dict.clear()
                    self._app_dict.clear()
                    self._populated = False
        return self._patterns

    def _load(self) -> list[Any]:
        module_name, attribute = self._target.split(":")
        patterns, app_name, namespace = getattr(import_module(module_name), attribute).urls
        if (app_name, namespace) != (self.app_name, self.namespace):
            raise ImproperlyConfigured(
                f"{self._target} mounts as {app_name}:{namespace}, "
                f"urls.py declares {self.app_name}:{self.namespace}"
            )
        return list(patterns)

    def _populate(self) -> None:
        # The root resolver populates every namespaced child to learn its names; until the
        # patterns are needed this one has none, and reverse() into the namespace loads them.
        # Under the lock that loading holds, so that no empty table outlives the load.
        with self._load_lock:
            if self._patterns is None:
                language_code = get_language()
                self._reverse_dict[language_code] = MultiValueDict()
                self._namespace_dict[language_code] = {}
                self._app_dict[language_code] = {}
                return
        super()._populate()


urlpatterns = [
    path("", include("microcred.web.urls")),
    path("accounts/", include("microcred.orgs.urls_accounts")),
    path("catalog/", include("microcred.catalog.urls")),
    path("author/", include("microcred.catalog.urls_authoring")),
    path("vetting/", include("microcred.catalog.urls_vetting")),
    path("manage/", include("microcred.orgs.urls")),
    path("uploads/", include("microcred.earning.urls_uploads")),
    path("earn/", include("microcred.earning.urls")),
    path("", include("microcred.credentials.urls")),
    path("ob2/", include("microcred.credentials.urls_ob2")),
    path("notifications/", include("microcred.notifications.urls")),
    path("evidence/", include("microcred.earning.urls_evidence")),
    path("assess/", include("microcred.assessment.urls")),
    path("recognition/", include("microcred.recognition.urls")),
    path("insights/", include("microcred.insights.urls")),
    path("lti/", include("microcred.lti.urls")),
    path("manage/webhooks/", include("microcred.webhooks.urls")),
    LazyURLResolver(
        "api/v1/",
        "microcred.api.api:api",
        app_name="ninja",
        namespace="api-1.0.0",
    ),
    # Reverse-only: NinjaAPI's documentation page (docs_url), which the footer of every page
    # links to, under a name that reverses without loading the API.
    path("api/v1/docs", _reverse_only, name="api_docs"),
    path("admin/", admin.site.urls),
]
