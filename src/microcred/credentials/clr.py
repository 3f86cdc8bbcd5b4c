"""An educator's whole record as one 1EdTech Comprehensive Learner Record (CLR 2.0).

The `ClrCredential` carries every credential of the earner that still counts (not revoked),
each exactly as its issuer signed it, so a reader can check each one on its own; their
achievements; and the links between a stack's achievement and the micro-credentials it was
completed with. The record itself is signed by the issuer of the earner's latest credential
when it is asked for: it is a statement of the record on that day, not a stored credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from .issuing import SCHEMA_VALIDATOR, subject_identity
from .models import IssuedCredential
from .proofs import xsd_datetime
from .samples import OB_CONTEXTS

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
# VC 2.0, then CLR 2.0 before the OB 3.0 contexts it builds on (as 1EdTech's examples order them).
CONTEXTS = [OB_CONTEXTS[0], CLR_CONTEXT, *OB_CONTEXTS[1:]]
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)


def _achievement_id(credential: IssuedCredential) -> str:
    return credential.document["credentialSubject"]["achievement"]["id"]


def associations(credentials: list[IssuedCredential]) -> list[dict[str, str]]:
    """A stack's achievement "isParentOf" each micro-credential achievement it was completed
    with (its signed evidence names their credentials)."""
    by_url = {credential.document["id"]: credential for credential in credentials}
    links = []
    for credential in credentials:
        if credential.stack_award_id is None:
            continue
        for entry in credential.document.get("evidence", []):
            part = by_url.get(entry.get("id", ""))
            if part is not None:
                links.append(
                    {
                        "type": "Association",
                        "associationType": "isParentOf",
                        "sourceId": _achievement_id(credential),
                        "targetId": _achievement_id(part),
                    }
                )
    return links


def build_record(
    earner: Any, credentials: list[IssuedCredential], issuer: dict[str, Any], issued_at: datetime
) -> dict[str, Any]:
    """The unsigned ClrCredential of `earner` holding `credentials` (oldest first)."""
    achievements: dict[str, dict[str, Any]] = {}
    for credential in credentials:
        achievements.setdefault(
            _achievement_id(credential), credential.document["credentialSubject"]["achievement"]
        )
    subject: dict[str, Any] = {
        "type": ["ClrSubject"],
        **subject_identity(earner),
        "verifiableCredential": [credential.document for credential in credentials],
        "achievement": list(achievements.values()),
    }
    links = associations(credentials)
    if links:
        subject["association"] = links
    return {
        "@context": list(CONTEXTS),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer,
        "validFrom": xsd_datetime(issued_at),
        "name": "Micro-credential record",
        "description": (
            f"Every micro-credential and stack credential this educator holds, as of "
            f"{issued_at:%B %-d, %Y}; each one is signed by its issuer and can be checked alone."
        ),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA, "type": SCHEMA_VALIDATOR}],
    }
