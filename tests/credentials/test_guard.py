"""The signing guard: no signature over a document whose terms the contexts do not define."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from microcred.credentials import (
    Status,
    UndefinedTermError,
    check_terms,
    did_key_verification_method,
    sign_credential,
    verify_credential,
)
from microcred.credentials.samples import sample_credential

ISSUED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _credential() -> dict:
    return sample_credential(0, "https://issuer.example.org")


def test_the_sample_credential_defines_every_term():
    assert check_terms(_credential()).issues == []


def test_an_undefined_property_is_refused_by_name(issuer_key):
    credential = _credential()
    credential["credentialSubject"]["achievement"]["hoursWorth"] = 10
    credential["evidence"].append({**credential["evidence"][0], "hoursWorth": 2})
    with pytest.raises(UndefinedTermError, match="hoursWorth") as raised:
        sign_credential(credential, issuer_key, did_key_verification_method(issuer_key), ISSUED)
    assert raised.value.issues == ["term 'hoursWorth' is not defined by the @context"]


def test_an_undefined_type_is_refused_by_name():
    credential = _credential()
    credential["credentialSubject"]["type"] = ["AchievementSubject", "TeacherSubject"]
    with pytest.raises(UndefinedTermError, match="TeacherSubject"):
        check_terms(credential)


def test_a_relative_id_is_refused():
    credential = _credential()
    credential["id"] = "credentials/42"
    with pytest.raises(UndefinedTermError, match="credentials/42"):
        check_terms(credential)


def test_a_term_outside_its_type_scope_is_refused():
    # `targetCode` is defined inside Alignment only; on an Achievement it means nothing.
    credential = _credential()
    credential["credentialSubject"]["achievement"]["targetCode"] = "X.1"
    with pytest.raises(UndefinedTermError, match="targetCode"):
        check_terms(credential)


def test_the_guard_also_covers_documents_the_fast_path_leaves_to_pyld():
    document = {
        "@context": {"@vocab": "http://example.org/", "rev": {"@reverse": "http://e.org/p"}},
        "@id": "http://example.org/a",
        "rev": {"@id": "http://example.org/b"},
        "unknown": {"@id": "relative/c"},
    }
    with pytest.raises(UndefinedTermError, match="relative/c"):
        check_terms(document)


def test_the_verifier_warns_about_unsigned_parts_without_failing(issuer_key):
    signed = sign_credential(
        _credential(), issuer_key, did_key_verification_method(issuer_key), ISSUED
    )
    signed["credentialSubject"]["comment"] = "added later, not covered by the signature"
    report = verify_credential(signed, now=datetime(2026, 6, 1, tzinfo=UTC))
    (check,) = report.check("json-ld")
    assert check.status is Status.WARNING
    assert "comment" in check.message
    assert report.verified  # the signed content is intact; the page shows the warning
