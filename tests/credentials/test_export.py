"""python manage.py export_credentials DIR: every issued credential as DIR/<uuid>.json."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from microcred.credentials import selectors, services
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _export(directory) -> str:
    out = StringIO()
    call_command("export_credentials", str(directory), stdout=out)
    return out.getvalue()


def test_exports_every_credential_as_a_verifiable_file(tmp_path, make_award, make_earner):
    first = services.issue_for_award(make_award())
    second = services.issue_for_award(make_award(make_earner(email="two@example.org")))
    target = tmp_path / "backup" / "credentials"  # created, parents included
    assert "2 credential file(s) written, 0 already up to date" in _export(target)
    files = sorted(path.name for path in target.iterdir())
    assert files == sorted([f"{first.uuid}.json", f"{second.uuid}.json"])
    exported = json.loads((target / f"{first.uuid}.json").read_text(encoding="utf-8"))
    assert exported == first.document
    assert selectors.verify(exported).verified


def test_running_again_rewrites_nothing(tmp_path, credential):
    _export(tmp_path)
    path = tmp_path / f"{credential.uuid}.json"
    before = path.stat().st_mtime_ns
    assert "0 credential file(s) written, 1 already up to date" in _export(tmp_path)
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_damaged_file_is_rewritten(tmp_path, credential):
    path = tmp_path / f"{credential.uuid}.json"
    _export(tmp_path)
    path.write_text("{", encoding="utf-8")
    assert "1 credential file(s) written" in _export(tmp_path)
    assert json.loads(path.read_text(encoding="utf-8")) == credential.document


def test_an_unusable_directory_is_a_clear_error(tmp_path, credential):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot create"):
        _export(blocker / "inside")
