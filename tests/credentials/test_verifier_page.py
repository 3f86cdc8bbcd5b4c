"""The public verifier: the /verify/ page and POST /api/v1/credentials/verify, on 1EdTech's
fixtures, our own credentials, and every kind of bad input (never a 500)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from microcred.credentials import services
from microcred.credentials.samples import sample_credential
from microcred.credentials.selectors import describe
from microcred.credentials.status_list import status_entry

from .helpers import (
    BAD_SIGNATURE_FIXTURE,
    GOOD_FIXTURES,
    fixture_text,
    load_fixture,
    set_up_issuer,
    signed_by,
)

PAGE = "/verify/"
API = "/api/v1/credentials/verify"


@pytest.fixture
def issuer(org_tree):
    return set_up_issuer(org_tree["issuer"])


def _page(client, text: str):
    response = client.post(PAGE, {"credential": text})
    assert response.status_code == 200
    return response


def _api(client, body: str | bytes) -> dict:
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _check(result: dict, name: str) -> dict:
    (check,) = [c for c in result["checks"] if c["name"] == name]
    return check


def _current(issuer, **changes) -> dict:
    """A credential valid today (the sample is dated 2026)."""
    now = datetime.now(UTC)
    window = {
        "validFrom": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "validUntil": (now + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return signed_by(issuer, **{**window, **changes})


def test_the_page_invites_a_paste_or_an_upload(client, db):
    response = client.get(PAGE)
    assert response.status_code == 200
    content = response.content.decode()
    assert '<label for="id_credential">Paste the credential (JSON)</label>' in content
    assert "Or upload a credential file (.json, up to 1 MB)" in content
    assert 'enctype="multipart/form-data"' in content


@pytest.mark.parametrize("name", GOOD_FIXTURES)
def test_1edtech_good_fixtures_verify_on_the_page_and_the_api(client, db, name):
    response = _page(client, fixture_text(name))
    assert '<h2 id="report-heading">Verified</h2>' in response.content.decode()
    result = _api(client, fixture_text(name))
    assert result["verified"] is True, result
    assert _check(result, "json")["status"] == "passed"
    assert _check(result, "signature")["status"] == "passed"
    assert all(c["status"] != "failed" for c in result["checks"])


def test_the_report_says_what_the_credential_claims_to_be(client, db):
    result = _api(client, fixture_text("ob30_simple.json"))
    claims = "Teamwork Badge, from Example Corp, valid from 2010-01-01T00:00:00Z."
    assert result["claims"] == claims
    assert (
        f"It says it is: {claims}"
        in _page(client, fixture_text("ob30_simple.json")).content.decode()
    )


def test_the_wrong_proof_value_fixture_is_rejected(client, db):
    response = _page(client, fixture_text(BAD_SIGNATURE_FIXTURE))
    content = response.content.decode()
    assert "Not verified" in content and "does not match the credential" in content
    result = _api(client, fixture_text(BAD_SIGNATURE_FIXTURE))
    assert result["verified"] is False
    assert _check(result, "signature")["status"] == "failed"
    assert result["headline"].startswith("Not verified. Signature:")


def test_an_uploaded_file_is_verified(client, db):
    upload = SimpleUploadedFile(
        "badge.json", fixture_text("ob30_complete.json").encode(), "application/json"
    )
    response = client.post(PAGE, {"file": upload})
    assert '<h2 id="report-heading">Verified</h2>' in response.content.decode()


def test_our_own_credential_verifies_with_every_check_named(client, issuer):
    status_list, index = services.allocate_index(issuer)
    credential = _current(issuer, credentialStatus=status_entry(status_list, index))
    result = _api(client, json.dumps(credential))
    assert result["verified"] is True
    names = [c["name"] for c in result["checks"]]
    assert names == ["json", "json-ld", "schema", "signature", "key", "dates", "status"]
    assert all(c["status"] == "passed" for c in result["checks"])
    assert result["headline"].startswith("Verified:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "name": ', "not valid JSON"),
        ("{'single': 'quotes'}", "line 1, column 2"),
        ("[1, 2, 3]", "not a credential"),
        ("42", "not a credential"),
        ('"just a string"', "not a credential"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["truncated", "single-quotes", "array", "number", "string", "deep"],
)
def test_malformed_input_gets_a_specific_verdict(client, db, text, message):
    response = _page(client, text)
    assert message in response.content.decode()
    result = _api(client, text)
    assert result["verified"] is False
    assert any(message in c["message"] for c in result["checks"])


def test_a_file_that_is_not_text_is_named(client, db):
    upload = SimpleUploadedFile("badge.json", b"\xff\xfe\x00binary", "application/json")
    response = client.post(PAGE, {"file": upload})
    assert "not a text file" in response.content.decode()


def test_an_unknown_context_is_named(client, db):
    credential = load_fixture("ob30_simple.json")
    credential["@context"].append("https://example.org/my-own-context.json")
    result = _api(client, json.dumps(credential))
    assert result["verified"] is False
    check = _check(result, "json-ld")
    assert check["status"] == "failed"
    assert "https://example.org/my-own-context.json" in check["message"]


def test_a_tampered_credential_fails_its_signature(client, issuer):
    credential = copy.deepcopy(_current(issuer))
    credential["credentialSubject"]["creditsEarned"] = 15
    result = _api(client, json.dumps(credential))
    assert result["verified"] is False
    assert _check(result, "signature")["status"] == "failed"


def test_an_expired_credential_fails_its_dates(client, issuer):
    credential = _current(
        issuer, validFrom="2020-01-01T00:00:00Z", validUntil="2021-01-01T00:00:00Z"
    )
    response = _page(client, json.dumps(credential))
    assert "it expired on 2021-01-01T00:00:00Z" in response.content.decode()
    result = _api(client, json.dumps(credential))
    assert result["verified"] is False
    assert _check(result, "signature")["status"] == "passed"
    assert _check(result, "dates")["status"] == "failed"


def test_a_revoked_credential_is_reported_revoked(client, issuer):
    status_list, index = services.allocate_index(issuer)
    credential = _current(issuer, credentialStatus=status_entry(status_list, index))
    services.set_revoked(status_list, index)
    result = _api(client, json.dumps(credential))
    assert result["verified"] is False
    assert "State MC Issuer has revoked this credential" in _check(result, "status")["message"]


def test_an_unresolvable_key_is_reported(client, issuer):
    credential = copy.deepcopy(_current(issuer))
    credential["proof"][0]["verificationMethod"] = "did:web:elsewhere.example.org#key-1"
    result = _api(client, json.dumps(credential))
    assert result["verified"] is False
    assert _check(result, "key")["status"] == "failed"


def test_an_empty_form_asks_for_a_credential(client, db):
    response = client.post(PAGE, {"credential": "   "})
    assert response.status_code == 200
    assert "Paste a credential into the box, or choose a credential file" in (
        response.content.decode()
    )


def test_more_than_one_megabyte_is_refused_plainly(client, db):
    big = b"{" + b" " * (1024 * 1024) + b"}"
    upload = SimpleUploadedFile("big.json", big, "application/json")
    response = client.post(PAGE, {"file": upload})
    assert "the verifier reads files up to 1 MB" in response.content.decode()
    response = client.post(API, big, content_type="application/json")
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]


def test_the_api_is_documented(client, db):
    schema = client.get(reverse("api-1.0.0:openapi-json")).json()
    operation = schema["paths"][API]["post"]
    assert "requestBody" in operation and operation["tags"] == ["credentials"]


def test_a_credential_with_language_and_direction_values_verifies(client, issuer):
    # Signed here with the direction in the canonical form (i18n-datatype), verified here too.
    subject = sample_credential(1, "did:example:unused")["credentialSubject"]
    subject["name"] = {"@value": "معلمة", "@language": "ar", "@direction": "rtl"}
    result = _api(client, json.dumps(_current(issuer, credentialSubject=subject)))
    assert result["verified"] is True, result
    for name in ("json-ld", "schema", "signature"):
        assert _check(result, name)["status"] == "passed", result


def test_the_summary_line_reads_a_name_given_with_a_language_and_direction():
    document = {
        "name": {"@value": "شارة المعلم", "@language": "ar", "@direction": "rtl"},
        "issuer": {"id": "did:example:issuer", "name": {"@value": "Issuer", "@language": "en"}},
    }
    assert describe(document) == "شارة المعلم, from Issuer."
