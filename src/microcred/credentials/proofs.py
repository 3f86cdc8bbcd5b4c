"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C vc-di-eddsa, section 3.3).

Signing and verifying hash the same two canonical forms: the proof configuration (the proof's
options, with the credential's @context) and the credential without its proof; the signed bytes
are sha256(canonical proof config) || sha256(canonical credential). The legacy name `eddsa-2022`
(used before the suite was renamed; same algorithm) is accepted when verifying, never produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from .canon import canonicalize_quads
from .json_numbers import describe as describe_numbers
from .json_numbers import unsafe_numbers
from .keys import (
    Ed25519Key,
    KeyFormatError,
    KeyResolutionError,
    KeyResolver,
    ResolvedKey,
    multibase_decode,
    multibase_encode,
    resolve_offline,
    verify_signature,
)
from .rdf import Dataset, check_terms, to_dataset

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
VERIFIABLE_CRYPTOSUITES = frozenset((CRYPTOSUITE, "eddsa-2022"))


class SigningError(ValueError):
    """The credential cannot be signed as given."""


class UnsafeNumberError(SigningError):
    """Signing refused: the document holds numbers JavaScript verifiers cannot read exactly."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The credential holds numbers that JavaScript verifiers (wallets, Digital Bazaar's) "
            "would read differently, so its signature would fail there: "
            + describe_numbers(problems)
        )


def xsd_datetime(moment: datetime) -> str:
    """An aware datetime as an XML Schema dateTime in UTC, to the second (2024-05-01T12:00:00Z)."""
    if moment.tzinfo is None:
        raise SigningError("the proof's created time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed_bytes(document: Dataset, proof_config: Dataset) -> bytes:
    config_canon = canonicalize_quads(proof_config.quads)
    document_canon = canonicalize_quads(document.quads)
    return (
        sha256(config_canon.encode("utf-8")).digest()
        + sha256(document_canon.encode("utf-8")).digest()
    )


def create_proof(
    document: dict,
    key: Ed25519Key,
    verification_method: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """A DataIntegrityProof over `document` (which must not hold a proof already).

    Refuses (UndefinedTermError) a document with terms its contexts do not define: they would be
    silently left out of what the signature covers; and (UnsafeNumberError) one with integers
    beyond 2^53 - 1 or non-finite numbers, which would verify here and nowhere in JavaScript.
    """
    if "proof" in document:
        raise SigningError("the document already has a proof; sign the unsigned credential")
    if "@context" not in document:
        raise SigningError("the document has no @context")
    problems = unsafe_numbers(document)
    if problems:
        raise UnsafeNumberError(problems)
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    config = {"@context": document["@context"], **proof}
    signature = key.sign(_signed_bytes(check_terms(document), check_terms(config)))
    return {**proof, "proofValue": multibase_encode(signature)}


@dataclass(frozen=True)
class ProofResult:
    """The outcome of checking one proof: `valid`, with a sentence saying why (or why not)."""

    valid: bool
    message: str
    key: ResolvedKey | None = None
    proof_purpose: str | None = None


def unsigned_dataset(document: dict) -> Dataset:
    """The dataset a proof of `document` covers: the document without its proofs."""
    return to_dataset({name: value for name, value in document.items() if name != "proof"})


def verify_proof(
    document: dict,
    proof: Any,
    resolver: KeyResolver = resolve_offline,
    covered: Dataset | None = None,
) -> ProofResult:
    """Check one proof of `document` (the document's other proofs are not part of the hash).

    `covered` is `unsigned_dataset(document)` when the caller has it already.
    """
    if not isinstance(proof, dict):
        return ProofResult(False, "The proof is not a JSON object.")
    if proof.get("type") != PROOF_TYPE:
        return ProofResult(False, f"Unsupported proof type {proof.get('type')!r}.")
    suite = proof.get("cryptosuite")
    if suite not in VERIFIABLE_CRYPTOSUITES:
        return ProofResult(False, f"Unsupported cryptosuite {suite!r}.")
    proof_value = proof.get("proofValue")
    method = proof.get("verificationMethod")
    if not isinstance(proof_value, str) or not isinstance(method, str):
        return ProofResult(False, "The proof lacks a proofValue or a verificationMethod.")
    try:
        signature = multibase_decode(proof_value)
    except KeyFormatError as error:
        return ProofResult(False, f"The proofValue is not valid multibase: {error}.")
    if len(signature) != 64:
        return ProofResult(False, "The proofValue is not a 64-byte Ed25519 signature.")
    try:
        resolved = resolver(method)
    except KeyResolutionError as error:
        return ProofResult(False, f"The signing key could not be resolved: {error}")

    config = {name: value for name, value in proof.items() if name != "proofValue"}
    config["@context"] = document.get("@context")
    if covered is None:
        covered = unsigned_dataset(document)
    signed = _signed_bytes(covered, to_dataset(config))
    purpose = proof.get("proofPurpose")
    if not verify_signature(resolved.public_key, signature, signed):
        return ProofResult(
            False,
            "The signature does not match the credential: it was changed after signing, "
            "or signed with another key.",
            resolved,
            purpose,
        )
    return ProofResult(True, f"Valid {suite} signature by {method}.", resolved, purpose)


def sign_credential(
    credential: dict,
    key: Ed25519Key,
    verification_method: str,
    created: datetime,
) -> dict:
    """A copy of `credential` with an embedded eddsa-rdfc-2022 proof (`proof` as an array).

    Open Badges 3.0's JSON Schema accepts `proof` as an array, and Digital Bazaar's verifier
    reads both forms; the array also leaves room for endorsing proofs later.
    """
    proof = create_proof(credential, key, verification_method, created)
    return {**credential, "proof": [proof]}
