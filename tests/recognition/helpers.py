"""Helpers for recognition tests: a credential another issuer signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from microcred.credentials.keys import Ed25519Key, did_key_for, did_key_verification_method
from microcred.credentials.keys import generate_key as new_key
from microcred.credentials.proofs import sign_credential
from microcred.credentials.samples import hashed_email_identity, sample_credential

ELSEWHERE = "https://badges.coastal.example.edu/achievements/restorative-circles"


def foreign(
    email: str,
    *,
    key: Ed25519Key | None = None,
    name: str = "Restorative Circles",
    achievement_id: str = ELSEWHERE,
    credits: float | None = 12,
    subject: dict[str, Any] | None = None,
) -> dict:
    """An Open Badges 3.0 credential Coastal University signed with its own did:key."""
    key = key or new_key()
    issued = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    document = sample_credential(3, did_key_for(key), issued)
    document["issuer"]["name"] = "Coastal University"
    document["name"] = name
    achievement = document["credentialSubject"]["achievement"]
    achievement.update(id=achievement_id, name=name)
    if credits is None:
        del achievement["creditsAvailable"]
    else:
        achievement["creditsAvailable"] = credits
    document["credentialSubject"]["identifier"] = [hashed_email_identity(email, "coastal-salt")]
    if subject is not None:
        document["credentialSubject"].update(subject)
    return sign_credential(document, key, did_key_verification_method(key), issued)
