"""Helpers the issuer, status list and verifier tests share (fixtures stay in each module)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from microcred.credentials import canonicalize, selectors, services
from microcred.credentials.keys import Ed25519Key, multibase_encode
from microcred.credentials.models import IssuerProfile
from microcred.credentials.proofs import CRYPTOSUITE, PROOF_TYPE
from microcred.credentials.samples import sample_credential
from microcred.orgs.models import Organization
from microcred.orgs.services import SYSTEM

FIXTURES = Path(__file__).with_name("fixtures")
GOOD_FIXTURES = [
    "ob30_simple.json",
    "ob30_complete.json",
    "ob30_simple-did-key-method.json",
    "ob30_simple-eddsa-2022.json",
    "clr20_simple.json",
]
BAD_SIGNATURE_FIXTURE = "ob30_simple-err-proof-value.json"
ISSUED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 6, 1, tzinfo=UTC)  # within the sample credential's validity


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def load_fixture(name: str) -> dict:
    return json.loads(fixture_text(name))


def set_up_issuer(organization: Organization) -> IssuerProfile:
    return services.create_issuer_profile(SYSTEM, organization)


def signed_by(profile: IssuerProfile, index: int = 1, **changes: object) -> dict:
    """A sample educator credential issued (and signed) by `profile` at ISSUED."""
    credential = sample_credential(index, selectors.identifier(profile))
    credential["issuer"] = selectors.profile_document(profile, standalone=False)
    credential.update(changes)
    return services.sign_as_issuer(profile, credential, ISSUED)


def statuses(report, name: str) -> list[str]:
    return [check.status for check in report.check(name)]


def sign_unguarded(credential: dict, key: Ed25519Key, method: str) -> dict:
    """`credential` with an eddsa-rdfc-2022 proof made without our signing guards, as another
    signer might make it: to show what the verifier does with documents we would never sign."""
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": "2026-05-01T12:00:00Z",
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    }
    config = {"@context": credential["@context"], **proof}
    signed = b"".join(
        sha256(canonicalize(part).encode("utf-8")).digest() for part in (config, credential)
    )
    return {**credential, "proof": [{**proof, "proofValue": multibase_encode(key.sign(signed))}]}
