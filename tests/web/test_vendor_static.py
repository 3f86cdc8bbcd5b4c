"""Static files: of the browser libraries' build folders, only the files pages load are exposed
(issue 8: a production collectstatic hashed and compressed ~300 files, megabytes of unused
builds and source maps among them, for minutes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.checks import Error

from microcred.web.staticfiles import ListedFilesFinder

SRC = Path(__file__).resolve().parents[2] / "src"
# `{% static 'vendor/...' %}` in templates, and the same paths written out in static JS.
REFERENCE = re.compile(r"""vendor/[\w.@-]+/[\w.@/-]+\.(?:m?js|css)\b""")


def referenced_vendor_files() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*"):
        if path.suffix in {".html", ".js", ".mjs", ".css"} and "vendor" not in path.parts:
            found.update(REFERENCE.findall(path.read_text(encoding="utf-8")))
    return found


def exposed_vendor_files() -> set[str]:
    return {
        f"{storage.prefix}/{path}"
        for finder in finders.get_finders()
        for path, storage in finder.list([])
        if (getattr(storage, "prefix", None) or "").startswith("vendor/")
    }


@pytest.fixture
def npm_installed() -> None:
    if not (Path(django_settings.NODE_MODULES) / "htmx.org" / "dist").is_dir():
        pytest.skip("npm packages are not installed (npm ci)")


def test_only_the_vendor_files_pages_load_are_exposed(npm_installed):
    referenced = referenced_vendor_files()
    assert {"vendor/htmx/htmx.min.js", "vendor/uppy/uppy.min.mjs"} <= referenced
    # swagger-ui.css and chart.umd.min.js name their source maps; the manifest storage must
    # find them to hash the files that name them.
    maps = {"vendor/swagger/swagger-ui.css.map", "vendor/chartjs/chart.umd.min.js.map"}
    assert exposed_vendor_files() == referenced | maps


def test_every_referenced_vendor_file_is_found_and_the_rest_of_its_folder_is_not(npm_installed):
    for name in referenced_vendor_files():
        assert finders.find(name), name
    # Present in the npm build folders, not used by any page.
    assert finders.find("vendor/htmx/htmx.js") is None
    assert finders.find("vendor/uppy/uppy.min.js") is None
    assert finders.find("vendor/swagger/redoc.standalone.js") is None


def test_a_folder_without_a_list_is_exposed_whole(settings, tmp_path):
    for folder in ("whole", "part"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.js").write_text("a")
        (tmp_path / folder / "b.js").write_text("b")
    settings.STATICFILES_DIRS = [
        ("vendor/whole", tmp_path / "whole"),
        ("vendor/part", tmp_path / "part"),
    ]
    settings.STATICFILES_ONLY = {"vendor/part": ["b.js"]}
    listed = {f"{s.prefix}/{p}" for p, s in ListedFilesFinder().list([])}
    assert listed == {"vendor/whole/a.js", "vendor/whole/b.js", "vendor/part/b.js"}


def test_a_listed_file_that_is_missing_is_reported_by_the_system_checks(settings, tmp_path):
    settings.STATICFILES_DIRS = [("vendor/part", tmp_path)]
    settings.STATICFILES_ONLY = {"vendor/part": ["gone.js"]}
    errors = ListedFilesFinder().check()
    assert [(type(e), e.id) for e in errors] == [(Error, "microcred.E101")]
    assert "vendor/part/gone.js" in errors[0].msg
