"""The production profile (MICROCRED_PRODUCTION=1, `make serve`): collectstatic writes hashed
names with gzip and Brotli copies, pages link the hashed names, WhiteNoise serves the compressed
copy with a long cache lifetime, and gunicorn.conf.py holds valid settings.

Vendor libraries are left out but htmx (every page loads it): the others are megabytes to
compress, and the same storage code handles them."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
HTMX = Path(django_settings.NODE_MODULES) / "htmx.org" / "dist"
OURS = ["web/site.css", "earning/uploader.js", "vendor/htmx/htmx.min.js"]


@pytest.fixture
def collected(settings, tmp_path) -> Path:
    if not HTMX.is_dir():
        pytest.skip("npm packages are not installed (npm ci)")
    root = tmp_path / "static"
    settings.STATIC_ROOT = root
    settings.STATICFILES_DIRS = [("vendor/htmx", HTMX)]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    # As in production: WhiteNoise serves what collectstatic wrote, not the source folders.
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    return root


def hashed_name(root: Path, name: str) -> str:
    path = Path(name)
    found = [
        p
        for p in (root / path.parent).glob(f"{path.stem}.*{path.suffix}")
        if re.fullmatch(rf"{re.escape(path.stem)}\.[0-9a-f]{{12}}{re.escape(path.suffix)}", p.name)
    ]
    assert len(found) == 1, f"no single hashed copy of {name}: {found}"
    return str(found[0].relative_to(root))


@pytest.mark.django_db
def test_collectstatic_writes_hashed_and_compressed_copies(collected):
    for name in OURS:
        hashed = hashed_name(collected, name)
        for suffix in (".gz", ".br"):
            assert (collected / f"{hashed}{suffix}").is_file(), f"{hashed}{suffix} is missing"


@pytest.mark.django_db
def test_pages_link_hashed_files_that_are_served_compressed_for_a_long_time(collected):
    page = Client().get("/")
    assert page.status_code == 200
    css = "/static/" + hashed_name(collected, "web/site.css")
    assert f'href="{css}"' in page.content.decode()

    response = Client().get(css, headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body == (collected / f"{hashed_name(collected, 'web/site.css')}.br").read_bytes()


def test_the_production_switch_selects_this_storage():
    env = {
        **os.environ,
        "MICROCRED_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": "production-switch-probe",
        "PYTHONPATH": str(ROOT / "src"),
    }
    probe = (
        "from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [PRODUCTION_STORAGE, "False"]


def test_the_gunicorn_settings_are_valid_and_taken_from_the_environment(monkeypatch):
    monkeypatch.setenv("MICROCRED_WEB_WORKERS", "3")
    monkeypatch.setenv("MICROCRED_BIND", "127.0.0.1:8123")
    values = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn's own validation of each value
    assert (config.workers, config.bind, config.worker_class_str) == (
        3,
        ["127.0.0.1:8123"],
        "gthread",
    )
    # Logs for the platform to collect; no query strings (signed URLs carry signatures there).
    assert config.accesslog == "-"
    assert "%(U)s" in config.access_log_format and "%(r)s" not in config.access_log_format
