"""The 1EdTech Open Badges 3.0 JSON Schema check: vendored, hashed, offline, in the report."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil

import pytest

from microcred.credentials import schema
from microcred.credentials.samples import OB_SCHEMA, minimal_credential, sample_credential
from microcred.credentials.verification import Status, VerificationReport

from .helpers import load_fixture


def _check(credential) -> list:
    report = VerificationReport()
    schema.check_schema(credential, report)
    return report.check("schema")


def test_the_vendored_schema_matches_its_manifest_hash():
    manifest = json.loads(schema.MANIFEST_PATH.read_text())
    for name, entry in manifest.items():
        data = (schema.SCHEMAS_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert json.loads(data)["$schema"].startswith("https://json-schema.org/draft/2019-09/")


def test_a_changed_schema_file_is_refused(tmp_path, monkeypatch):
    copied = tmp_path / "schemas"
    shutil.copytree(schema.SCHEMAS_DIR, copied)
    target = copied / "ob_v3p0_achievementcredential_schema.json"
    target.write_bytes(target.read_bytes().replace(b'"required"', b'"optional"', 1))
    monkeypatch.setattr(schema, "SCHEMAS_DIR", copied)
    monkeypatch.setattr(schema, "MANIFEST_PATH", copied / "manifest.json")
    schema.schemas.cache_clear()
    try:
        with pytest.raises(schema.SchemaIntegrityError, match="sha256"):
            schema.schemas()
    finally:
        schema.schemas.cache_clear()


@pytest.mark.parametrize(
    "credential",
    [sample_credential(3, "did:web:example.org"), minimal_credential(3, "did:web:example.org")],
    ids=["sample", "minimal"],
)
def test_our_credentials_pass_the_schema(credential):
    (check,) = _check(credential)
    assert check.status is Status.PASSED, check.message


@pytest.mark.parametrize(
    ("break_it", "path"),
    [
        (lambda c: c["credentialSubject"]["achievement"].pop("name"), "$.credentialSubject"),
        (lambda c: c.update(type=["VerifiableCredential"]), "$.type"),
        (lambda c: c.pop("validFrom"), "'validFrom' is a required property"),
        (lambda c: c["credentialSubject"]["achievement"].update(criteria="x"), "criteria"),
    ],
    ids=["no-achievement-name", "wrong-type", "no-validFrom", "criteria-not-object"],
)
def test_a_broken_credential_fails_naming_where(break_it, path):
    credential = copy.deepcopy(sample_credential(3, "did:web:example.org"))
    break_it(credential)
    (check,) = _check(credential)
    assert check.status is Status.FAILED
    assert path in check.message
    assert "Open Badges 3.0 AchievementCredential JSON Schema" in check.message


def test_the_path_of_a_nested_problem_is_named_exactly():
    credential = copy.deepcopy(sample_credential(3, "did:web:example.org"))
    credential["credentialSubject"]["achievement"]["alignment"][1]["targetUrl"] = 7
    (check,) = _check(credential)
    assert "$.credentialSubject.achievement.alignment[1].targetUrl: 7 is not of type" in (
        check.message
    )


def test_the_schema_named_in_credential_schema_is_used():
    credential = sample_credential(3, "did:web:example.org")
    assert credential["credentialSchema"][0]["id"] == OB_SCHEMA
    assert schema.schema_for(credential) is schema.schemas()[0]


def test_a_kind_of_credential_without_a_known_schema_is_skipped():
    (check,) = _check(load_fixture("clr20_simple.json"))
    assert check.status is Status.SKIPPED and "ClrCredential" in check.message


def test_an_older_vc_1_1_credential_gets_a_warning_not_a_failure():
    (check,) = _check(load_fixture("ob30_simple-eddsa-2022.json"))
    assert check.status is Status.WARNING
    assert "Verifiable Credentials 1.1" in check.message and "validFrom" in check.message


def test_something_that_is_not_an_object_fails():
    (check,) = _check(["not", "a", "credential"])
    assert check.status is Status.FAILED


# VC 2.0 language and direction values ({"@value", "@language", "@direction"}): the published OB
# 3.0 schema types the fields it describes (name, description...) as plain strings, and leaves
# other properties open. Its verdict stands on both.
DIRECTIONAL = {"@value": "معلمة", "@language": "ar", "@direction": "rtl"}


def test_a_direction_value_passes_where_the_schema_leaves_the_property_open():
    credential = copy.deepcopy(sample_credential(3, "did:web:example.org"))
    credential["credentialSubject"]["name"] = DIRECTIONAL  # not described by AchievementSubject
    (check,) = _check(credential)
    assert check.status is Status.PASSED, check.message


def test_a_direction_value_where_the_schema_wants_a_string_is_named():
    credential = copy.deepcopy(sample_credential(3, "did:web:example.org"))
    credential["name"] = DIRECTIONAL
    (check,) = _check(credential)
    assert check.status is Status.FAILED
    assert "$.name: {'@value': 'معلمة'" in check.message and "is not of type 'string'" in (
        check.message
    )
