"""gunicorn settings for running microcred in production (`make serve`, README "Running in
production"). gunicorn reads this file from the directory it starts in; every value can be
changed through the environment variables below, and command-line options override them.

    MICROCRED_BIND           address to listen on              (0.0.0.0:8000)
    MICROCRED_WEB_WORKERS    worker processes                  (2 x CPUs + 1, at most 8)
    MICROCRED_WEB_THREADS    threads per worker                (4)
    MICROCRED_WEB_TIMEOUT    seconds a silent worker lives     (60)
    MICROCRED_WEB_MAX_REQUESTS  requests before a worker is replaced, 0 for never (2000)
    MICROCRED_FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-* (127.0.0.1)
    MICROCRED_LOG_FORMAT     json (the default in production) or text
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("MICROCRED_BIND", "0.0.0.0:8000")
workers = _int("MICROCRED_WEB_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 8))

# Threads, not one request per process: evidence parts of up to hundreds of MB come from
# teachers' phones on slow links, and a part may take minutes. A sync worker is killed when
# one request outlasts `timeout`; a threaded worker keeps answering the arbiter while its
# threads read, so `timeout` only catches a stuck process, and slow uploads do not block other
# requests. Each thread adds only a 1 MiB upload buffer to the worker's memory.
worker_class = "gthread"
threads = _int("MICROCRED_WEB_THREADS", 4)
timeout = _int("MICROCRED_WEB_TIMEOUT", 60)
# Long enough for parts in flight to finish on a deploy; the browser resends any that do not.
graceful_timeout = 120
keepalive = 5

# Replace each worker now and then (jittered, so they do not all restart at once): whatever a
# rare request loaded (the signing stack, the API, Pillow) is given back.
max_requests = _int("MICROCRED_WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# The proxy in front terminates TLS and sets X-Forwarded-Proto (settings.py trusts it).
forwarded_allow_ips = os.environ.get("MICROCRED_FORWARDED_ALLOW_IPS", "127.0.0.1")

# No control socket (gunicorn's default puts one in $HOME/.gunicorn): two servers on one host
# would share its path, and a container's home may be read-only. Signals manage the server.
control_socket_disable = True

# Logs to stdout and stderr, for the platform to collect.
loglevel = os.environ.get("MICROCRED_LOG_LEVEL", "info").lower()
errorlog = "-"
_production = os.environ.get("MICROCRED_PRODUCTION", "").lower() in {"1", "true", "yes", "on"}
if os.environ.get("MICROCRED_LOG_FORMAT", "json" if _production else "text") == "json":
    # Structured logs (settings.LOGGING): the application writes the access line, as JSON with
    # the request id, so gunicorn writes none, and its own messages are JSON too.
    accesslog = None
    # gunicorn merges this over its defaults key by key: its handler names are kept.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "microcred.web.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json"},
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False}
        },
    }
else:
    accesslog = "-"
    # No query strings in the access log: signed upload and file URLs carry signatures there.
    access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


def post_worker_init(worker: object) -> None:
    """Load the code requests run before the worker takes its first one: Django imports the
    URL configuration (every app's views) on the first request, which then took about half a
    second, in every new worker (each max_requests). Evidence parts are the requests that wait
    on it most: a browser sends the first few at once, to whichever workers have them."""
    from django.urls import reverse

    from microcred.earning.uploads.backends import default_backend

    reverse("uploads:create")  # imports the URL configuration, and fills reverse()'s tables
    default_backend()  # imports the storage backend's module (boto3 for S3)
