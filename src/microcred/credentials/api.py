"""The verifier as an API: POST a credential, get every check with a plain-language verdict.

The body is read as raw text rather than parsed by django-ninja, so that malformed JSON gets
the same report (a failed "json" check, with the line and column) as on the verifier page,
never a bare 422.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.orgs.api_auth import ApiTokenAuth

from .forms import MAX_CREDENTIAL_BYTES
from .selectors import credential_state, credentials_of, summary_of, verify_text
from .verification import Status

router = Router(tags=["credentials"])


class CheckOut(Schema):
    name: str
    label: str
    status: Status
    message: str


class MyCredentialOut(Schema):
    id: str
    kind: str
    title: str
    issued_at: datetime
    state: str
    credential_url: str = Field(description="The signed Open Badges 3.0 credential (JSON).")
    page_url: str


class VerificationOut(Schema):
    verified: bool
    headline: str
    claims: str  # what the credential says it is: name, issuer, start date
    checks: list[CheckOut]


@router.post(
    "/verify",
    response=VerificationOut,
    summary="Verify an Open Badges 3.0 credential",
    description=(
        "Send the credential as the request body (JSON, up to 1 MB). The answer lists each "
        "check (json, json-ld, schema, signature, key, proof purpose, dates, status) as passed, "
        "failed, warning or skipped, with a sentence saying why. `verified` is true when the "
        "signature is genuine and no check failed. Any input gets a report; nothing is stored."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def verify(request: HttpRequest) -> dict:
    if len(request.body) > MAX_CREDENTIAL_BYTES:
        raise HttpError(413, "The credential is larger than 1 MB; the verifier reads up to 1 MB.")
    summary = verify_text(request.body)
    return {
        "verified": summary.verified,
        "headline": summary.headline,
        "claims": summary.claims,
        "checks": [
            {"name": r.name, "label": r.label, "status": r.status, "message": r.message}
            for r in summary.rows
        ],
    }


@router.get(
    "/mine",
    response=list[MyCredentialOut],
    summary="My credentials",
    auth=[ApiTokenAuth(), django_auth],
    description="The caller's own credentials, newest first, revoked and expired ones included.",
)
def mine(request: HttpRequest) -> list[dict]:
    return [
        {
            "id": str(credential.uuid),
            "kind": summary.kind,
            "title": summary.title,
            "issued_at": credential.issued_at,
            "state": credential_state(credential).state,
            "credential_url": request.build_absolute_uri(
                reverse("credentials:credential_json", args=[credential.uuid])
            ),
            "page_url": request.build_absolute_uri(
                reverse("credentials:credential", args=[credential.uuid])
            ),
        }
        for credential in credentials_of(request.user).order_by("-issued_at", "-pk")
        for summary in [summary_of(credential)]
    ]
