"""1EdTech's published eddsa-rdfc-2022 test vector for Open Badges 3.0, reproduced exactly."""

from __future__ import annotations

from datetime import datetime

from microcred.credentials import Ed25519Key, canonicalize, create_proof, verify_credential

from .conftest import TEST_VECTOR


def _created(options: dict) -> datetime:
    return datetime.fromisoformat(options["created"].replace("Z", "+00:00"))


def test_document_canonical_form_matches(vector):
    expected = (TEST_VECTOR / "document-canon.txt").read_text(encoding="utf-8")
    assert canonicalize(vector["unsigned_credential"]) == expected


def test_proof_configuration_canonical_form_matches(vector):
    config = {"@context": vector["unsigned_credential"]["@context"], **vector["proof_options"]}
    expected = (TEST_VECTOR / "proof-canon.txt").read_text(encoding="utf-8")
    assert canonicalize(config) == expected


def test_proof_value_matches(vector):
    key = Ed25519Key(bytes.fromhex(vector["ed25519_private_key_seed_hex"]))
    options = vector["proof_options"]
    proof = create_proof(
        vector["unsigned_credential"], key, options["verificationMethod"], _created(options)
    )
    assert proof == {**options, "proofValue": vector["expected_proofValue"]}


def test_the_vector_key_is_the_one_its_verification_method_names(vector):
    key = Ed25519Key(bytes.fromhex(vector["ed25519_private_key_seed_hex"]))
    assert vector["proof_options"]["verificationMethod"].endswith("#" + key.public_key_multibase)


def test_the_signed_vector_verifies(vector):
    credential = {**vector["unsigned_credential"]}
    credential["proof"] = [{**vector["proof_options"], "proofValue": vector["expected_proofValue"]}]
    assert verify_credential(credential).verified
