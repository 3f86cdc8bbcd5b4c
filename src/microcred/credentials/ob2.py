"""Open Badges 2.0 hosted verification, for backpacks that predate Verifiable Credentials.

Every issued credential is also an OB 2.0 `Assertion` at a stable URL, with its `BadgeClass`
(the achievement exactly as the signed OB 3.0 credential states it) and image, and the
issuer's `Issuer` profile with its `RevocationList`. Hosted verification means the documents
are the proof, so they are public: a credential its earner made private answers 404 here.

Everything is built from the signed document and the credential's row, so both kinds (micro-
credential and stack credentials) export alike. The recipient is a salted SHA-256 of the
earner's email; the salt is derived from the credential, so the document never changes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.urls import reverse

from .models import IssuedCredential, IssuerProfile, Revocation

CONTEXT = "https://w3id.org/openbadges/v2"


def _url(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(f"ob2:{name}", args=args)


def assertion_url(credential: IssuedCredential) -> str:
    return _url("assertion", credential.uuid)


def badge_url(credential: IssuedCredential) -> str:
    return _url("badge", credential.uuid)


def issuer_url(profile: IssuerProfile) -> str:
    return _url("issuer", profile.slug)


def revocations_url(profile: IssuerProfile) -> str:
    return _url("revocations", profile.slug)


def salt(credential: IssuedCredential) -> str:
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, f"ob2-salt:{credential.uuid}".encode(), hashlib.sha256).hexdigest()[:32]


def hashed_identity(email: str, salt_value: str) -> str:
    normalized = email.strip().lower()  # as the OB 3.0 identity hashes it (samples.py)
    return "sha256$" + hashlib.sha256((normalized + salt_value).encode("utf-8")).hexdigest()


def _achievement(credential: IssuedCredential) -> dict[str, Any]:
    return credential.document["credentialSubject"]["achievement"]


def assertion(credential: IssuedCredential) -> dict[str, Any]:
    salt_value = salt(credential)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": assertion_url(credential),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": salt_value,
            "identity": hashed_identity(credential.earner.email, salt_value),
        },
        "badge": badge_url(credential),
        "verification": {"type": "hosted"},
        "issuedOn": credential.document["validFrom"],
        # The same achievement, also as a Verifiable Credential a wallet can check offline.
        "narrative": f"Also issued as an Open Badges 3.0 credential: {credential.document['id']}",
    }
    evidence = [
        {"id": entry["id"], "name": entry.get("name", ""), "description": entry["description"]}
        for entry in credential.document.get("evidence", [])
        if "id" in entry and "description" in entry
    ]
    if evidence:
        document["evidence"] = evidence
    if "validUntil" in credential.document:
        document["expires"] = credential.document["validUntil"]
    revocation = Revocation.objects.filter(credential=credential).first()
    if revocation is not None:
        document["revoked"] = True
        document["revocationReason"] = revocation.reason
    return document


# OB 2.0's AlignmentObject has the same names for these as OB 3.0's Alignment.
ALIGNMENT_FIELDS = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")


def _alignment(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ALIGNMENT_FIELDS if item.get(name)}


def badge_class(credential: IssuedCredential) -> dict[str, Any]:
    achieved = _achievement(credential)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_url(credential),
        "name": achieved["name"],
        "description": achieved.get("description") or achieved["name"],
        "image": _url("image", credential.uuid),
        "criteria": {
            "id": achieved["criteria"]["id"],
            "narrative": achieved["criteria"].get("narrative", ""),
        },
        "issuer": issuer_url(credential.issuer),
        "tags": [achieved.get("achievementType", "MicroCredential")],
    }
    alignments = [_alignment(item) for item in achieved.get("alignment", [])]
    if alignments:
        document["alignment"] = alignments
    return document


def issuer(profile: IssuerProfile) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Issuer",
        "id": issuer_url(profile),
        "name": profile.name,
        "url": profile.url or settings.SITE_URL,
        "revocationList": revocations_url(profile),
    }
    if profile.email:
        document["email"] = profile.email
    if profile.description:
        document["description"] = profile.description
    if profile.image_url:
        document["image"] = profile.image_url
    return document


def revocation_list(profile: IssuerProfile) -> dict[str, Any]:
    revoked = (
        Revocation.objects.filter(credential__issuer=profile)
        .select_related("credential")
        .order_by("revoked_at", "pk")
    )
    return {
        "@context": CONTEXT,
        "type": "RevocationList",
        "id": revocations_url(profile),
        "issuer": issuer_url(profile),
        "revokedAssertions": [
            {"id": assertion_url(r.credential), "revocationReason": r.reason} for r in revoked
        ],
    }
