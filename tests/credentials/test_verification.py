"""Verifying credentials: 1EdTech's fixtures, our own signatures, and every way one can fail."""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials import (
    SigningError,
    Status,
    did_key_for,
    did_key_verification_method,
    generate_key,
    sign_credential,
    verify_credential,
)
from microcred.credentials.samples import sample_credential

from .conftest import load_fixture

GOOD = [
    "ob30_simple.json",
    "ob30_complete.json",
    "ob30_simple-did-key-method.json",
    "ob30_simple-eddsa-2022.json",
    "clr20_simple.json",
]
GOOD_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ISSUED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 6, 1, tzinfo=UTC)


def statuses(report, name):
    return [check.status for check in report.check(name)]


@pytest.mark.parametrize("name", GOOD)
def test_good_fixtures_verify(name):
    report = verify_credential(load_fixture(name))
    assert report.verified, report.checks
    assert statuses(report, "signature") == [Status.PASSED]


def test_a_key_read_from_the_method_id_is_flagged_as_unconfirmed():
    report = verify_credential(load_fixture("ob30_simple.json"))
    (check,) = report.check("key")
    assert check.status is Status.WARNING
    assert "https://example.com/issuers/876543 was not asked" in check.message


def test_fixture_with_a_wrong_proof_value_fails_the_signature_check():
    report = verify_credential(load_fixture("ob30_simple-err-proof-value.json"))
    assert not report.verified
    (check,) = report.check("signature")
    assert check.status is Status.FAILED
    assert "does not match" in check.message


@pytest.fixture
def signed(issuer_key):
    method = did_key_verification_method(issuer_key)
    return sign_credential(
        sample_credential(7, did_key_for(issuer_key)), issuer_key, method, ISSUED
    )


def test_our_signed_credential_verifies_with_every_check_named(signed):
    assert signed["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    report = verify_credential(signed, now=DURING)
    assert report.verified
    assert statuses(report, "signature") == [Status.PASSED]
    assert statuses(report, "key") == [Status.PASSED]
    assert statuses(report, "dates") == [Status.PASSED]
    assert statuses(report, "json-ld") == [Status.PASSED]
    assert statuses(report, "schema") == [Status.SKIPPED]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.update(name="Another badge"),
        lambda c: c["credentialSubject"]["result"][0].update(achievedLevel="https://x.org/yes"),
        lambda c: c["credentialSubject"]["achievement"].update(creditsAvailable=15),
        lambda c: c["evidence"].append({"type": ["Evidence"], "name": "forged"}),
        lambda c: c["proof"][0].update(created="2027-01-01T00:00:00Z"),
    ],
    ids=["name", "result", "credits", "evidence", "proof-created"],
)
def test_a_tampered_credential_fails(signed, tamper):
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    report = verify_credential(tampered, now=DURING)
    assert not report.verified
    assert statuses(report, "signature") == [Status.FAILED]


def test_reordering_json_keys_keeps_the_signature_valid(signed):
    reordered = dict(reversed(list(signed.items())))
    assert verify_credential(reordered, now=DURING).verified


def test_a_signature_by_another_key_fails(signed):
    other = generate_key()
    forged = sign_credential(
        {k: v for k, v in signed.items() if k != "proof"},
        other,
        signed["proof"][0]["verificationMethod"],
        ISSUED,
    )
    assert statuses(verify_credential(forged, now=DURING), "signature") == [Status.FAILED]


def test_expired_and_not_yet_valid_credentials_fail_the_dates_check(signed):
    expired = verify_credential(signed, now=datetime(2040, 1, 1, tzinfo=UTC))
    assert statuses(expired, "dates") == [Status.FAILED]
    assert "expired" in expired.check("dates")[0].message
    early = verify_credential(signed, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert "not valid until" in early.check("dates")[0].message
    assert not expired.verified and not early.verified


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ("not json-ld", "not a credential"),
        ({"name": "no context"}, "not a credential"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "x"}, "no proof"),
    ],
)
def test_malformed_input_gets_a_clear_verdict(credential, message):
    report = verify_credential(credential)
    assert not report.verified
    assert any(message in check.message for check in report.checks)


def test_an_unresolvable_key_is_reported(signed):
    broken = copy.deepcopy(signed)
    broken["proof"][0]["verificationMethod"] = "https://example.org/keys/1"
    report = verify_credential(broken, now=DURING)
    (check,) = report.check("signature")
    assert check.status is Status.FAILED
    assert "could not be resolved" in check.message


def test_a_key_that_is_not_the_issuers_is_flagged(issuer_key):
    credential = sample_credential(1, "https://issuer.example.org")
    signed = sign_credential(
        credential, issuer_key, did_key_verification_method(issuer_key), ISSUED
    )
    report = verify_credential(signed, now=DURING)
    assert Status.WARNING in statuses(report, "key")


def test_signing_twice_or_with_a_naive_time_is_refused(signed, issuer_key):
    method = did_key_verification_method(issuer_key)
    with pytest.raises(SigningError, match="already has a proof"):
        sign_credential(signed, issuer_key, method, ISSUED)
    with pytest.raises(SigningError, match="timezone"):
        sign_credential(sample_credential(1, "did:x:y"), issuer_key, method, datetime(2026, 1, 1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["@context", "@id", "@type", "@value", "@list", "id", "type", "name", "x"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(
    st.builds(
        lambda body, ctx: {**body, "@context": ctx} if isinstance(body, dict) else body,
        json_values,
        st.one_of(json_values, st.just(GOOD_CONTEXT)),
    )
)
def test_any_json_gets_a_report_never_an_exception(document):
    report = verify_credential(document)
    assert not report.verified
    assert report.checks
