"""One settings module, driven by environment variables.

Defaults give the embedded setup (SQLite file, local disk, console email, database task
queue); production switches are environment variables documented in README.md.
"""

import importlib.util
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = SRC_DIR.parent.parent
VAR_DIR = Path(os.environ.get("MICROCRED_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
PRODUCTION = env_bool("MICROCRED_PRODUCTION", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
    # A fixed development key: the embedded setup is for one machine, never the internet.
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("MICROCRED_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A separate origin for users' files (e.g. https://files.example.org, pointing at this app):
# links to them are built there and the app's own origin sends file requests on, so an
# uploaded file never shares an origin with the app's pages (DESIGN.md invariant 9).
MICROCRED_USER_CONTENT_ORIGIN = os.environ.get("MICROCRED_USER_CONTENT_ORIGIN", "").rstrip("/")
if MICROCRED_USER_CONTENT_ORIGIN:
    _files = urlsplit(MICROCRED_USER_CONTENT_ORIGIN)
    if _files.scheme not in ("http", "https") or not _files.hostname or _files.path:
        raise ImproperlyConfigured(
            "MICROCRED_USER_CONTENT_ORIGIN must be an origin such as https://files.example.org."
        )
    ALLOWED_HOSTS.append(_files.hostname)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_tasks_db",
    "microcred.web",
    "microcred.orgs",
    "microcred.catalog",
    "microcred.earning",
    "microcred.assessment",
    "microcred.credentials",
    "microcred.notifications",
    "microcred.recognition",
    "microcred.insights",
    "microcred.lti",
    "microcred.webhooks",
    "microcred.api",
]

MIDDLEWARE = [
    # First: every later log line of the request carries its id, and the access line times all.
    "microcred.web.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After allauth's: admins, issuers, scoring leads and assessors set up a second factor first.
    "microcred.orgs.mfa.MfaRequiredMiddleware",
]

ROOT_URLCONF = "microcred.urls"
WSGI_APPLICATION = "microcred.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Searched before the apps' own templates, so that the overrides of allauth's pages in
        # web/templates/{account,allauth}/ win over allauth's (listed earlier in INSTALLED_APPS).
        "DIRS": [SRC_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "microcred.web.context_processors.navigation",
                "microcred.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'microcred.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes share one file: writers take the lock at BEGIN (no upgrade
    # deadlocks) and wait for each other instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
    # The test database is a file too, not SQLite's in-memory default: Django hands the live
    # server's request threads the test's one in-memory connection, so concurrent requests of a
    # browser test (a video's range requests beside a form post) interleaved their transactions
    # on it, and one request's rollback could take another's session row with it. Each thread
    # gets its own connection to a file, locked as in production. Per process: two runs in one
    # checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- People ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("MICROCRED_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
# Single sign-on (orgs/sso.py, orgs/sso_adapter.py): state and district IdPs over OpenID Connect
# or SAML. An IdP signs into an existing account only by an address in its own email domains
# (the adapter checks), and connects it; sign-in buttons post (no sign-in on GET).
SOCIALACCOUNT_ADAPTER = "microcred.orgs.sso_adapter.SsoAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False

# --- Multi-factor sign-in and rate limits -------------------------------------------------------
# TOTP apps, WebAuthn security keys and recovery codes through allauth; required for the roles
# listed in orgs/mfa.py (MICROCRED_MFA_REQUIRED=0 only where an upstream single sign-on
# already enforces a second factor).
MICROCRED_MFA_REQUIRED = env_bool("MICROCRED_MFA_REQUIRED", True)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_ADAPTER = "microcred.orgs.mfa.MfaAdapter"
MFA_FORMS = {
    "authenticate": "microcred.orgs.mfa.AuthenticateForm",
    "reauthenticate": "microcred.orgs.mfa.ReauthenticateForm",
    "activate_totp": "microcred.orgs.mfa.ActivateTOTPForm",
}
MFA_TOTP_ISSUER = "microcred"
# Privileged accounts are created by admins and imports, and email verification is optional by
# default: a required second factor cannot wait for a verification the site does not ask for.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Browsers allow WebAuthn on http://localhost and 127.0.0.1 only; production runs on https.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# Failed sign-ins (password or second factor): 10 a minute per address, 5 per account in 5
# minutes; allauth merges this into its other limits. Counted in the default cache below, which
# every web process shares.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
_CACHE_URL = os.environ.get("MICROCRED_REDIS_URL") or os.environ.get("MICROCRED_CACHE_URL")
if _CACHE_URL:
    if importlib.util.find_spec("redis") is None:
        raise ImproperlyConfigured(
            "MICROCRED_REDIS_URL / MICROCRED_CACHE_URL need the redis client: "
            "pip install 'microcred[redis]'."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
        }
    }
else:
    # A table in the main database (`manage.py createcachetable`; Django's test databases get
    # it too), never per-process memory: lockouts must hold whichever process answers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "microcred_cache",
        }
    }

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("MICROCRED_STATIC_ROOT", VAR_DIR / "static"))
NODE_MODULES = BASE_DIR / "node_modules"
# Browser libraries come from npm at install time (package.json); only their built files
# are exposed, under a stable prefix.
STATICFILES_DIRS = [
    (f"vendor/{name}", NODE_MODULES / path)
    for name, path in {
        "htmx": "htmx.org/dist",
        "uppy": "uppy/dist",
        "chartjs": "chart.js/dist",
    }.items()
    if (NODE_MODULES / path).is_dir()
]
# Swagger UI for /api/v1/docs: the copy django-ninja ships in its wheel (pinned with ninja,
# no CDN). Found without importing ninja, which is heavy for a settings module.
_NINJA_SPEC = importlib.util.find_spec("ninja")
if _NINJA_SPEC and _NINJA_SPEC.origin:
    STATICFILES_DIRS.append(
        ("vendor/swagger", Path(_NINJA_SPEC.origin).parent / "static" / "ninja")
    )
# Of those folders (tens of MB of builds, maps and variants), only the files pages load: the
# rest made a production collectstatic hash and compress ~300 files for minutes. A file a
# listed one references must be listed too (swagger-ui.css names its map, which the manifest
# storage resolves). `manage.py check` reports a listed file that is missing.
STATICFILES_ONLY = {
    "vendor/htmx": ["htmx.min.js"],
    "vendor/uppy": ["uppy.min.mjs"],
    "vendor/chartjs": ["chart.umd.min.js", "chart.umd.min.js.map"],
    "vendor/swagger": [
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "swagger-ui.css",
        "swagger-ui.css.map",
    ],
}
STATICFILES_FINDERS = [
    "microcred.web.staticfiles.ListedFilesFinder",  # STATICFILES_DIRS, filtered as above
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
# /favicon.ico and other files browsers ask for at the site's root.
WHITENOISE_ROOT = SRC_DIR / "web" / "root"
# Outside production, WhiteNoise serves straight from the finders (no collectstatic step).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MICROCRED_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

AWS_STORAGE_BUCKET_NAME = os.environ.get("MICROCRED_S3_BUCKET", "")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = os.environ.get("MICROCRED_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("MICROCRED_S3_REGION", "us-east-1")
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 300
    # Presigned part uploads and downloads need SigV4 (the default elsewhere may be SigV2).
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Tasks and email ------------------------------------------------------------------------
# The embedded default keeps the queue in the database (`manage.py db_worker`). Production
# scales out on Redis: MICROCRED_TASK_BACKEND=django_tasks_rq.RQBackend with MICROCRED_REDIS_URL,
# and `manage.py task_worker` (RQ workers, any number) runs the same task code.
TASK_BACKEND = os.environ.get("MICROCRED_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASK_BACKEND, "QUEUES": ["default"]}}
TASKS_ON_REDIS = TASK_BACKEND == "django_tasks_rq.RQBackend"
if TASKS_ON_REDIS:
    if not _CACHE_URL:
        raise ImproperlyConfigured(
            "The Redis task queue (django_tasks_rq.RQBackend) needs MICROCRED_REDIS_URL."
        )
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": _CACHE_URL}}
# Console email by default; set MICROCRED_EMAIL_BACKEND to the SMTP backend (and EMAIL_*) in
# production.
EMAIL_BACKEND_PATH = os.environ.get(
    "MICROCRED_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "587")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "microcred <no-reply@localhost>")

# --- Program rules and credentials -------------------------------------------------------
# Days an assessor has to score an assignment before it is reassigned.
MICROCRED_SCORING_DAYS = int(os.environ.get("MICROCRED_SCORING_DAYS", "14"))
# The program's scoring defaults for MCs without a policy of their own (assessment.ScoringPolicy
# field names), e.g. {"second_read_percent": 15}. Unset fields keep the model's defaults: 10%
# second reads, all of them in an MC's first year, and reads within a point of the pass line.
MICROCRED_SCORING_DEFAULTS: dict[str, object] = {}
# Parts a browser sends at once when uploading evidence.
UPLOAD_PARALLEL_PARTS = int(os.environ.get("MICROCRED_UPLOAD_PARALLEL_PARTS", "4"))
# Each person's unfinished uploads, which reserve storage: at most this many, and this many GiB
# between them; uploads idle for UPLOAD_ABANDONED_DAYS no longer count and are discarded.
UPLOAD_MAX_OPEN = int(os.environ.get("MICROCRED_UPLOAD_MAX_OPEN", "10"))
UPLOAD_MAX_OPEN_BYTES = int(os.environ.get("MICROCRED_UPLOAD_MAX_OPEN_GIB", "24")) * 1024**3
UPLOAD_ABANDONED_DAYS = int(os.environ.get("MICROCRED_UPLOAD_ABANDONED_DAYS", "7"))
# Seconds a webhook endpoint has to answer before the attempt counts as failed (webhooks/).
MICROCRED_WEBHOOK_TIMEOUT = float(os.environ.get("MICROCRED_WEBHOOK_TIMEOUT", "10"))
# Days a finished webhook event and its delivery log are kept (send_webhooks forgets them).
MICROCRED_WEBHOOK_KEEP_DAYS = int(os.environ.get("MICROCRED_WEBHOOK_KEEP_DAYS", "90"))
# Encrypts issuers' private signing keys at rest; required in production (see keystore.py).
MICROCRED_CREDENTIAL_KEY = os.environ.get("MICROCRED_CREDENTIAL_KEY", "")

# --- Locale ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("MICROCRED_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Security switches for production ---------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Content Security Policy ------------------------------------------------------------------
# Django's own CSP middleware sets it on every response. Scripts and styles come only from our
# static files (an inline script must carry {{ csp_nonce }}); no inline style attributes.
# Origins that serve user files to the browser (the S3 bucket for part uploads and signed
# downloads, or a separate file origin) are added to connect/img/media sources.
_CSP_FILE_ORIGINS = env_list("MICROCRED_CSP_FILE_ORIGINS")
if AWS_STORAGE_BUCKET_NAME and not _CSP_FILE_ORIGINS:
    if AWS_S3_ENDPOINT_URL:
        _scheme, _, _host = AWS_S3_ENDPOINT_URL.rstrip("/").partition("://")
        _CSP_FILE_ORIGINS = [
            f"{_scheme}://{_host}",
            f"{_scheme}://{AWS_STORAGE_BUCKET_NAME}.{_host}",
        ]
    else:
        _CSP_FILE_ORIGINS = [
            f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
            f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com",
        ]
if MICROCRED_USER_CONTENT_ORIGIN:  # pages embed evidence videos and pictures from it
    _CSP_FILE_ORIGINS = [*_CSP_FILE_ORIGINS, MICROCRED_USER_CONTENT_ORIGIN]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_CSP_FILE_ORIGINS],
    "media-src": [CSP.SELF, *_CSP_FILE_ORIGINS],
    "connect-src": [CSP.SELF, *_CSP_FILE_ORIGINS],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Logs -------------------------------------------------------------------------------------
# To stderr, for the platform to collect. MICROCRED_LOG_FORMAT=json writes one JSON object per
# line (time, level, logger, message, request id, and the request's method, path, status and
# duration for the access lines of microcred.web.logs.RequestLogMiddleware); text otherwise.
LOG_FORMAT = os.environ.get("MICROCRED_LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("MICROCRED_LOG_FORMAT is json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "microcred.web.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "microcred.web.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MICROCRED_LOG_LEVEL", "INFO")},
    "loggers": {
        # The access line per request comes from RequestLogMiddleware, with the request id;
        # Django's own server line would repeat it.
        "django.server": {"level": "WARNING"},
    },
}
