"""Ways an earner takes a credential elsewhere: LinkedIn's add-to-profile link, a printable
certificate with a QR code to the credential's page, and the baked badge images (baking.py).

All of it is read from the signed document and the credential's row, so it works the same
for micro-credential and stack credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils.safestring import SafeString, mark_safe

from . import issuing
from .models import IssuedCredential

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(credential: IssuedCredential) -> str:
    """LinkedIn's "Add licence or certification" form, filled in, with the credential's page
    as the link a recruiter follows to verify it."""
    issued = credential.issued_at
    return (
        LINKEDIN_ADD
        + "?"
        + urlencode(
            {
                "startTask": "CERTIFICATION_NAME",
                "name": credential.document.get("name", ""),
                "organizationName": credential.issuer.name,
                "issueYear": issued.year,
                "issueMonth": issued.month,
                "certUrl": issuing.credential_url(credential.uuid),
                "certId": str(credential.uuid),
            }
        )
    )


def qr_svg(url: str) -> SafeString:
    """A QR code of `url` as inline SVG (medium error correction survives a creased print)."""
    # segno only when a certificate is drawn, not in every web process (issue 8).
    import segno

    code = segno.make(url, error="m")
    # segno writes only paths and numbers, never text from the URL: safe to mark as markup.
    return mark_safe(code.svg_inline(scale=4, dark="#000", light="#fff"))


@dataclass(frozen=True)
class Certificate:
    title: str
    kind: str
    earner_name: str
    issuer_name: str
    issued_at: Any
    result: str  # "Yes: 18 of 20 points", or "" for a stack
    page_url: str
    qr: SafeString


def certificate(credential: IssuedCredential, about: Any) -> Certificate:
    """What the printable certificate says; `about` is selectors.summary_of(credential)."""
    page_url = issuing.credential_url(credential.uuid)
    subject = credential.document.get("credentialSubject", {})
    maximum = ""
    for description in subject.get("achievement", {}).get("resultDescription", []):
        if description.get("resultType") == "RubricScore":
            maximum = f" of {description.get('valueMax')}"
    result = f"{about.band}: {about.points}{maximum} points" if about.band else ""
    return Certificate(
        title=about.title,
        kind=about.kind,
        earner_name=about.earner_name,
        issuer_name=credential.issuer.name,
        issued_at=credential.issued_at,
        result=result,
        page_url=page_url,
        qr=qr_svg(page_url),
    )
