"""Numbers JavaScript cannot read exactly (issue 8, finding 13): refused before signing, reported
as not verifiable by the verifier (core, page and API), never a 500."""

from __future__ import annotations

import json
import math

import pytest

from microcred.credentials import (
    SigningError,
    Status,
    did_key_for,
    did_key_verification_method,
    selectors,
    services,
    sign_credential,
    verify_credential,
)
from microcred.credentials.json_numbers import MAX_SAFE_INTEGER, unsafe_numbers
from microcred.credentials.models import IssuedCredential
from microcred.credentials.proofs import UnsafeNumberError
from microcred.credentials.samples import sample_credential

from .helpers import DURING, ISSUED, set_up_issuer, sign_unguarded

PAGE = "/verify/"
API = "/api/v1/credentials/verify"
TOO_BIG = 2**53 + 1  # 9007199254740993: JavaScript reads 9007199254740992


@pytest.mark.parametrize(
    ("document", "paths"),
    [
        pytest.param({"n": MAX_SAFE_INTEGER, "m": -MAX_SAFE_INTEGER}, [], id="the-safe-limits"),
        pytest.param({"n": 2**53}, ["$.n"], id="2^53"),
        pytest.param({"n": -(2**53)}, ["$.n"], id="minus-2^53"),
        pytest.param({"a": [1, {"b": [TOO_BIG]}]}, ["$.a[1].b[0]"], id="nested"),
        pytest.param(
            {"@context": [10**30], "x y": TOO_BIG}, ["$['@context'][0]", "$['x y']"], id="keys"
        ),
        pytest.param(
            {"n": math.nan, "i": [math.inf, -math.inf]},
            ["$.n", "$.i[0]", "$.i[1]"],
            id="non-finite",
        ),
        pytest.param({"t": True, "f": 1e300, "g": 2.0**60, "s": str(TOO_BIG)}, [], id="others"),
        pytest.param(10**5000, ["$"], id="a-number-too-long-to-print"),
    ],
)
def test_unsafe_numbers_are_named_by_their_json_path(document, paths):
    problems = unsafe_numbers(document)
    assert [problem.split(" is ")[0] for problem in problems] == paths


def test_the_limit_and_the_advice_are_in_the_message():
    (problem,) = unsafe_numbers({"n": TOO_BIG})
    assert problem.startswith("$.n is 9007199254740993, beyond ±9007199254740991 (2^53 - 1)")
    assert "write it as a string" in problem
    (problem,) = unsafe_numbers([10**5000])
    assert "an integer of about 5000 digits" in problem


def _with_number(issuer: str, value: object) -> dict:
    credential = sample_credential(1, issuer)
    credential["credentialSubject"]["creditsEarned"] = value
    return credential


@pytest.mark.parametrize("value", [TOO_BIG, -(2**60), math.nan, math.inf])
def test_signing_refuses_unsafe_numbers_naming_the_path(issuer_key, value):
    method = did_key_verification_method(issuer_key)
    credential = _with_number(did_key_for(issuer_key), value)
    with pytest.raises(UnsafeNumberError, match=r"\$\.credentialSubject\.creditsEarned") as caught:
        sign_credential(credential, issuer_key, method, ISSUED)
    assert isinstance(caught.value, SigningError)
    assert "JavaScript" in str(caught.value)
    assert "proof" not in credential  # nothing was changed


def test_signing_still_accepts_the_largest_safe_integer(issuer_key):
    method = did_key_verification_method(issuer_key)
    credential = _with_number(did_key_for(issuer_key), MAX_SAFE_INTEGER)
    signed = sign_credential(credential, issuer_key, method, ISSUED)
    assert verify_credential(signed, now=DURING).verified


def test_the_issuer_service_refuses_and_stores_nothing(org_tree):
    profile = set_up_issuer(org_tree["issuer"])
    credential = _with_number(selectors.identifier(profile), TOO_BIG)
    before = IssuedCredential.objects.count()
    with pytest.raises(UnsafeNumberError, match=r"creditsEarned is 9007199254740993"):
        services.sign_as_issuer(profile, credential)
    assert IssuedCredential.objects.count() == before


def test_the_core_verifier_reports_unsafe_numbers_as_not_verifiable(issuer_key):
    # A proof made without our guard verifies in Python, but not in JavaScript: no verdict.
    method = did_key_verification_method(issuer_key)
    signed = sign_unguarded(_with_number(did_key_for(issuer_key), TOO_BIG), issuer_key, method)
    report = verify_credential(signed, now=DURING)
    assert not report.verified
    (check,) = report.check("json")
    assert check.status is Status.FAILED
    assert "cannot be verified the same way everywhere" in check.message
    assert "$.credentialSubject.creditsEarned is 9007199254740993" in check.message


@pytest.fixture
def unguarded_text(issuer_key) -> str:
    method = did_key_verification_method(issuer_key)
    signed = sign_unguarded(_with_number(did_key_for(issuer_key), TOO_BIG), issuer_key, method)
    return json.dumps(signed)


def test_the_api_reports_unsafe_numbers_plainly(client, db, unguarded_text):
    response = client.post(API, unguarded_text, content_type="application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["verified"] is False
    assert "$.credentialSubject.creditsEarned is 9007199254740993" in result["headline"]
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["json"]


def test_the_verifier_page_reports_unsafe_numbers_plainly(client, db, unguarded_text):
    response = client.post(PAGE, {"credential": unguarded_text})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not verified" in page
    assert "$.credentialSubject.creditsEarned is 9007199254740993" in page


@pytest.mark.parametrize(
    ("number", "message"),
    [
        pytest.param("NaN", "$.credentialSubject.creditsEarned is nan", id="NaN"),
        pytest.param("-Infinity", "$.credentialSubject.creditsEarned is -inf", id="-Infinity"),
        pytest.param("9" * 5000, "a number of thousands of digits", id="5000-digits"),
    ],
)
def test_numbers_python_reads_but_json_does_not_get_a_verdict_not_a_500(
    client, db, number, message
):
    text = json.dumps(_with_number("did:example:issuer", 0)).replace(
        '"creditsEarned": 0', f'"creditsEarned": {number}'
    )
    response = client.post(API, text, content_type="application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["verified"] is False
    assert message in result["headline"]
    page = client.post(PAGE, {"credential": text})
    assert page.status_code == 200
    assert message in page.content.decode()
