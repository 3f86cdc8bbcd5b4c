"""A web process stays light (issue 8): serving ordinary pages loads neither the signing stack
nor the API, nor anything else only a few requests need.

Each check starts a fresh interpreter with the project's settings, since the test process has
imported everything long ago, and serves real requests through Django's WSGI handler with a
hand-made environ (django.test is itself one of the modules a web process should not load).
The first request loads the URL table, and with it every view module (evidence uploads and
evidence serving included), as in a real worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

SRC = Path(__file__).resolve().parents[2] / "src"

# Module -> why a page-serving worker must not load it (each is a few MB, several are tens).
NEVER_LOADED_BY_PAGES = {
    "psycopg": "the PostgreSQL driver, on SQLite (django.contrib.postgres in catalog search)",
    "django.contrib.postgres": "loads psycopg",
    "ninja": "the API, mounted lazily in microcred/urls.py",
    "pydantic": "the API's schemas",
    "django.test": "imported by ninja",
    "PIL": "Pillow, for baked PNG badges only",
    "segno": "QR codes, for certificates only",
    "av": "PyAV and FFmpeg, for the task worker's media checks only",
    "pyld": "JSON-LD, for signing and verifying credentials only",
    "lxml": "imported by pyld",
    "jsonschema": "the credential schema check, for verifying only",
}
# requests is not listed: allauth's social accounts register their providers when the apps load,
# and its OpenID Connect provider module imports requests (single sign-on needs it registered).
# Their views, which bring python3-saml, xmlsec and lxml, are routed lazily
# (orgs/urls_accounts.py), and lxml stays listed.
# cryptography is not listed: allauth's MFA URLs import fido2, and with it cryptography, when
# the URL table loads (allauth/mfa/webauthn/internal/auth.py), so every worker has it whatever
# this project imports. Our own use of it (credentials.keys) is imported lazily all the same.

# View modules the first request must have loaded: without them, the checks above would pass
# for the wrong reason. The upload and evidence views are the ones nearest PyAV.
VIEW_MODULES = [
    "microcred.earning.views_uploads",
    "microcred.earning.views_evidence",
    "microcred.credentials.views",
    "microcred.orgs.views_tokens",
]

SETUP = """
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command

# Tables straight from the models (no migrations to run): what the pages read is there.
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
call_command("createcachetable", verbosity=0)

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from microcred.orgs.models import User

user = User.objects.create_user(email="teacher@example.org", password=None)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""

PROBE = """
import io, json, sys
from microcred.wsgi import application

def get(path, cookie=""):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1", "HTTP_COOKIE": cookie, "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    statuses = []
    body = b"".join(application(environ, lambda status, headers, exc=None: statuses.append(status)))
    return statuses[0], body.decode()

cookie = "sessionid=" + sys.argv[1]
pages = {path: get(path, cookie) for path in ("/", "/catalog/", "/me/")}
loaded = sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)
views = {name: name in sys.modules for name in json.loads(sys.argv[3])}
# The pages that link to the API documentation in their own text, not only in the footer.
# Served after the check above: the verifier page loads the verifier (pyld) on its own.
linking = {path: get(path, cookie) for path in json.loads(sys.argv[4])}
ninja_after_linking = "ninja" in sys.modules
api_status, _ = get("/api/v1/openapi.json")
print(json.dumps({
    "statuses": {path: status for path, (status, _) in pages.items()},
    "api_link": "/api/v1/docs" in pages["/"][1],
    "loaded": loaded,
    "views": views,
    "linking": {
        path: [status, body.count('href="/api/v1/docs"')]
        for path, (status, body) in linking.items()
    },
    "ninja_after_linking": ninja_after_linking,
    "api_status": api_status,
    "ninja_after_api": "ninja" in sys.modules,
}))
"""


def _run(code: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("weight")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "microcred.settings",
        "DJANGO_SECRET_KEY": "import-weight-probe",
        "MICROCRED_VAR_DIR": str(work),
        "MICROCRED_MEDIA_ROOT": str(work / "media"),
        # SQLite whatever the suite runs on: psycopg must stay out of a SQLite process.
        "DATABASE_URL": f"sqlite:///{work / 'probe.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "MICROCRED_LOG_LEVEL": "ERROR",
    }
    session_key = _run(SETUP, env)
    linking = [reverse("credentials:verify"), reverse("orgs:api_tokens")]
    return json.loads(
        _run(
            PROBE,
            env,
            session_key,
            json.dumps(list(NEVER_LOADED_BY_PAGES)),
            json.dumps(VIEW_MODULES),
            json.dumps(linking),
        )
    )


def test_pages_are_served_without_loading_heavy_modules(served):
    assert served["statuses"] == {"/": "200 OK", "/catalog/": "200 OK", "/me/": "200 OK"}
    assert served["api_link"], "every page links to the API documentation"
    assert served["loaded"] == [], {name: NEVER_LOADED_BY_PAGES[name] for name in served["loaded"]}


def test_the_first_request_loaded_every_view_module(served):
    assert served["views"] == dict.fromkeys(VIEW_MODULES, True)


def test_pages_linking_to_the_api_documentation_do_not_load_the_api(served):
    # The verifier and the API tokens page name the documentation in their text (besides the
    # footer): each link is reversed by "api_docs", never into the API's own namespace.
    assert served["linking"] == {
        reverse("credentials:verify"): ["200 OK", 2],
        reverse("orgs:api_tokens"): ["200 OK", 2],
    }
    assert not served["ninja_after_linking"]


def test_the_api_loads_on_its_first_request(served):
    assert served["api_status"] == "200 OK"
    assert served["ninja_after_api"]


def test_an_api_url_reverses_before_the_api_has_loaded():
    # The site's reverse table is built first without the API (as on any page), then a name
    # inside the API is asked for: it must load the API's patterns, not fail.
    probe = (
        "import sys, django; django.setup(); from django.urls import reverse; "
        "reverse('web:dashboard'); assert 'ninja' not in sys.modules; "
        "print(reverse('api-1.0.0:catalog_stack', args=['x']))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "microcred.settings"}
    assert _run(probe, env) == "/api/v1/catalog/stacks/x"


def test_modules_pages_import_for_a_constant_or_a_url_leave_the_signing_stack_alone():
    # The public credential documents import status_list for TTL_SECONDS, the MFA page imports
    # sharing (and through it issuing) for the QR code, the DID page imports earner_did: none
    # of them signs or verifies, so none may bring pyld, lxml or jsonschema.
    probe = (
        "import json, sys, django; django.setup(); "
        "import microcred.credentials.status_list, microcred.credentials.sharing, "
        "microcred.orgs.earner_did; "
        "print(json.dumps([m for m in ('pyld', 'lxml', 'jsonschema', "
        "'microcred.credentials.keys') if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "microcred.settings"}
    assert json.loads(_run(probe, env)) == []


def test_the_pages_link_to_the_api_documentation_where_the_api_serves_it():
    # "api_docs" reverses without loading the API; it must name the page the API serves.
    assert reverse("api_docs") == reverse("api-1.0.0:openapi-view") == "/api/v1/docs"


def test_the_credentials_package_still_offers_its_public_names():
    import microcred.credentials as credentials
    from microcred.credentials import sign_credential, verify_credential
    from microcred.credentials.proofs import sign_credential as defined

    assert sign_credential is defined
    assert callable(verify_credential)
    assert set(credentials.__all__) <= set(dir(credentials)) | set(credentials._SUBMODULE_OF)
    with pytest.raises(AttributeError):
        credentials.no_such_name  # noqa: B018


def test_every_public_name_of_the_credentials_package_resolves():
    # __all__, the lazy map and the TYPE_CHECKING imports are three lists of the same names: a
    # name added to one and not the map (or misspelt there) fails here, not in production.
    import microcred.credentials as credentials

    assert set(credentials.__all__) == set(credentials._SUBMODULE_OF)
    for name in credentials.__all__:
        assert getattr(credentials, name) is not None, name
