"""Interoperability: Digital Bazaar's implementation verifies what we sign, and we verify theirs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from microcred.credentials import (
    did_key_for,
    did_key_verification_method,
    interop,
    sign_credential,
    verify_credential,
)
from microcred.credentials.samples import sample_credential

pytestmark = pytest.mark.skipif(
    interop.unavailable_reason() is not None, reason=interop.unavailable_reason() or ""
)

ISSUED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 6, 1, tzinfo=UTC)


def test_reference_verifies_our_credentials_and_rejects_a_tampered_copy(issuer_key):
    did_method = did_key_verification_method(issuer_key)
    url_method = f"https://issuer.example.org#{issuer_key.public_key_multibase}"
    ours = sign_credential(
        sample_credential(1, did_key_for(issuer_key)), issuer_key, did_method, ISSUED
    )
    by_url = sign_credential(
        sample_credential(2, "https://issuer.example.org"), issuer_key, url_method, ISSUED
    )
    # Characters where pyld's N-Quads escaping departs from RDFC-1.0: we must match the spec.
    unusual = sample_credential(3, did_key_for(issuer_key))
    unusual["name"] = 'Bell\b, form feed\f, \x01, DEL\x7f, "quoted", back\\slash, tab\t, ünï'
    unusual = sign_credential(unusual, issuer_key, did_method, ISSUED)
    tampered = copy.deepcopy(ours)
    tampered["credentialSubject"]["result"][0]["achievedLevel"] = "https://example.org/yes"

    run = interop.verify([ours, by_url, unusual, tampered])
    verdicts = [result["verified"] for result in run.results]
    assert verdicts == [True, True, True, False], run.results
    assert "signature" in run.results[3]["error"].lower()


def test_we_verify_the_references_credentials_and_sign_identically(issuer_key):
    method = did_key_verification_method(issuer_key)
    unsigned = sample_credential(4, did_key_for(issuer_key))
    run = interop.sign([unsigned], issuer_key.seed, method, "2026-05-01T12:00:00Z")
    (theirs,) = run.results
    assert verify_credential(theirs, now=DURING).verified
    # Ed25519 is deterministic: the same canonical form gives the very same proofValue.
    ours = sign_credential(unsigned, issuer_key, method, ISSUED)
    proof = theirs["proof"] if isinstance(theirs["proof"], dict) else theirs["proof"][0]
    assert proof["proofValue"] == ours["proof"][0]["proofValue"]
