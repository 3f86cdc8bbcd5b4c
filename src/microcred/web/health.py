"""Liveness and readiness for load balancers and orchestrators.

/healthz says the process answers (nothing else is touched, so a slow database never gets a
healthy web process restarted); /readyz says it can do its work: the database, the shared
cache (sign-in lockouts), file storage and the task queue each answer, each reported by name
and timed. A load balancer sends traffic only to ready processes. Neither needs signing in, and
neither says more than which check failed; the log line says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)
PROBE_KEY = "microcred:readyz"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set(PROBE_KEY, "1", timeout=10)
    if cache.get(PROBE_KEY) != "1":
        raise RuntimeError("the cache did not keep a value")


def _storage() -> None:
    # A lookup of a name that need not exist: reaches the bucket or disk without writing.
    default_storage.exists("readyz-probe")


def _task_queue() -> None:
    if settings.TASKS_ON_REDIS:
        import django_rq

        django_rq.get_connection("default").ping()
    else:
        _database()  # the queue is a table of the same database


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "storage": _storage,
    "task_queue": _task_queue,
}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", reported, never raised
            # The cause goes to the log only: the probe is public, error texts name hosts.
            log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = {"ok": False}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )
