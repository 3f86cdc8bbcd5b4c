"""Reads about issuers and status lists, and the verifier: every check a credential gets.

`verify(document)` runs the core's checks (verification.py) with our key resolver (did.py), then
the JSON Schema (schema.py) and status list (status_list.py) checks, in one VerificationReport;
`verify_text(raw)` starts from the text someone pasted or uploaded and sums the report up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import Stack
from microcred.orgs.models import Organization, Role
from microcred.orgs.selectors import is_active_superuser, organizations_where

from . import did
from .keys import KeyResolutionError, ResolvedKey
from .models import IssuedCredential, IssuerKey, IssuerProfile, StackAward, StatusList
from .samples import OB_CONTEXTS
from .schema import check_schema
from .status_list import check_status
from .verification import Check, Status, VerificationReport, verify_credential

# ---------------------------------------------------------------------------- issuers


def public_issuers() -> QuerySet[IssuerProfile]:
    return IssuerProfile.objects.select_related("organization").order_by("name")


def issuer_with_keys(slug: str) -> IssuerProfile | None:
    """The issuer and its keys (newest first), in two queries."""
    return (
        IssuerProfile.objects.select_related("organization")
        .prefetch_related(Prefetch("keys", queryset=IssuerKey.objects.order_by("-number")))
        .filter(slug=slug)
        .first()
    )


def active_key(profile: IssuerProfile) -> IssuerKey | None:
    return next((key for key in profile.keys.all() if key.active), None)


def identifier(profile: IssuerProfile) -> str:
    """The issuer's id in credentials: its did:web, or the did:key of its current key."""
    return did.issuer_did(profile, active_key(profile))


def did_document(profile: IssuerProfile) -> dict:
    return did.did_document(profile, list(profile.keys.all()))


def profile_document(profile: IssuerProfile, *, standalone: bool = True) -> dict[str, Any]:
    """The issuer as an Open Badges 3.0 `Profile`: standalone (with @context) for its public
    address, or without @context to embed as a credential's `issuer`."""
    document: dict[str, Any] = {
        "id": identifier(profile),
        "type": ["Profile"],
        "name": profile.name,
    }
    for field in ("url", "email", "description"):
        if getattr(profile, field):
            document[field] = getattr(profile, field)
    if profile.image_url:
        document["image"] = {"id": profile.image_url, "type": "Image"}
    return {"@context": OB_CONTEXTS[:2], **document} if standalone else document


@dataclass(frozen=True)
class ManagedIssuer:
    organization: Organization
    profile: IssuerProfile | None


def issuers_managed_by(user: Any) -> list[ManagedIssuer]:
    """The issuer organizations the user administers (all of them for a superuser), each with
    its profile once it has been set up."""
    orgs = (
        Organization.objects.filter(kind=Organization.Kind.ISSUER)
        if is_active_superuser(user)
        else organizations_where(user, Role.ISSUER_ADMIN)
    )
    orgs = orgs.select_related("issuer_profile").order_by("name")
    return [ManagedIssuer(org, getattr(org, "issuer_profile", None)) for org in orgs]


def status_list(list_uuid: Any) -> StatusList | None:
    return StatusList.objects.filter(uuid=list_uuid).first()


# ---------------------------------------------------------------------------- the verifier

# The order checks are shown in, with a name and a sentence a busy reader understands.
CHECKS: dict[str, tuple[str, str]] = {
    "json": ("Readable JSON", "The text can be read as JSON."),
    "json-ld": (
        "Known vocabulary",
        "It uses only JSON-LD contexts this verifier knows, and every field is defined by them.",
    ),
    "schema": (
        "Open Badges format",
        "Its fields have the shape the official Open Badges 3.0 JSON Schema requires.",
    ),
    "signature": (
        "Signature",
        "The issuer's digital signature matches the content: nothing was changed after signing.",
    ),
    "key": ("Issuer's key", "The key that signed it was found and belongs to the issuer."),
    "proof purpose": ("Purpose of the signature", "The signature was made to assert a credential."),
    "dates": ("Validity dates", "Today is within the period in which the credential is valid."),
    "status": ("Revocation", "Its issuer has not revoked it."),
}
_ORDER = {name: position for position, name in enumerate(CHECKS)}


def verify(document: Any, now: datetime | None = None) -> VerificationReport:
    """Every check of a parsed credential, in the order of CHECKS."""
    unresolved: list[str] = []

    def resolver(verification_method: str) -> ResolvedKey:
        try:
            return did.resolve_key(verification_method)
        except KeyResolutionError as error:
            unresolved.append(str(error))  # the core reports it under "signature" only
            raise

    report = verify_credential(document, resolver=resolver, now=now)
    # The core marks these two as not done yet; they are done here.
    report.checks = [check for check in report.checks if check.name not in {"schema", "status"}]
    for message in unresolved:
        report.add("key", Status.FAILED, message)
    if isinstance(document, dict):
        check_schema(document, report)
        check_status(document, report)
    report.checks.sort(key=lambda check: _ORDER.get(check.name, len(_ORDER)))
    return report


_UNREADABLE = object()


def _parse(raw: bytes | str) -> tuple[Any, Check]:
    """(the parsed document, or _UNREADABLE; the "json" check saying so)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            message = "This is not a text file (it is not UTF-8 text)."
            return _UNREADABLE, Check("json", Status.FAILED, message)
    try:
        return json.loads(raw), Check("json", Status.PASSED, "The text is well-formed JSON.")
    except json.JSONDecodeError as error:
        message = (
            f"This is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        )
    except RecursionError:
        message = "This JSON is nested too deeply to be a credential."
    except ValueError:
        # Python's cap on integer digits (4300): far past what any verifier reads exactly.
        message = (
            "This JSON holds a number of thousands of digits, which no verifier reads exactly."
        )
    return _UNREADABLE, Check("json", Status.FAILED, message)


def verify_text(raw: bytes | str, now: datetime | None = None) -> ReportSummary:
    """Every check of a credential given as text (or the bytes of an uploaded file)."""
    document, parsed = _parse(raw)
    if document is _UNREADABLE:
        return summarize(VerificationReport([parsed]))
    report = verify(document, now)
    report.checks.insert(0, parsed)
    return summarize(report, document)


@dataclass(frozen=True)
class CheckRow:
    name: str
    label: str
    explains: str
    status: Status
    message: str


@dataclass(frozen=True)
class ReportSummary:
    verified: bool
    headline: str
    rows: list[CheckRow]
    warnings: int
    claims: str  # what the credential says it is (true only if verified)


def _text(value: Any) -> str:
    """A plain string, or the string of a JSON-LD value object (one with a language or a base
    direction, as VC 2.0 allows for names)."""
    if isinstance(value, dict):
        value = value.get("@value")
    return value if isinstance(value, str) else ""


def describe(document: Any) -> str:
    """What a credential says it is, in one line: its name, issuer and start date."""
    if not isinstance(document, dict):
        return ""
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    name = _text(document.get("name")) or (
        _text(achievement.get("name")) if isinstance(achievement, dict) else ""
    )
    issuer = document.get("issuer")
    issuer_name = (
        _text(issuer.get("name")) or _text(issuer.get("id"))
        if isinstance(issuer, dict)
        else _text(issuer)
    )
    valid_from = _text(document.get("validFrom")) or _text(document.get("issuanceDate"))
    parts = [name or "A credential without a name"]
    if issuer_name:
        parts.append(f"from {issuer_name}")
    if valid_from:
        parts.append(f"valid from {valid_from}")
    return ", ".join(parts) + "."


def summarize(report: VerificationReport, document: Any = None) -> ReportSummary:
    """The report as the verifier page and the API show it: a verdict and labelled checks."""
    rows = [
        CheckRow(c.name, *CHECKS.get(c.name, (c.name, "")), status=c.status, message=c.message)
        for c in report.checks
    ]
    warnings = sum(row.status is Status.WARNING for row in rows)
    failed = next((row for row in rows if row.status is Status.FAILED), None)
    if report.verified:
        headline = "Verified: the signature is genuine and every check passed."
        if warnings:
            headline = (
                f"Verified, with {warnings} warning{'s' if warnings > 1 else ''} to read: "
                "the signature is genuine and no check failed."
            )
    elif failed is not None:
        headline = f"Not verified. {failed.label}: {failed.message}"
    else:
        headline = "Not verified: the credential carries no valid signature."
    return ReportSummary(report.verified, headline, rows, warnings, describe(document))


# ---------------------------------------------------------------------------- issued credentials


def _issued() -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.select_related(
        "award__earner",
        "award__attempt__version__micro_credential",
        "award__decision__band",
        "stack_award__earner",
        "stack_award__stack",
        "issuer__organization",
        "revocation",
    )


def issued_credential(credential_uuid: Any) -> IssuedCredential | None:
    return _issued().filter(uuid=credential_uuid).first()


def credentials_of(user: Any) -> QuerySet[IssuedCredential]:
    """The user's own credentials, newest first."""
    if not user.is_authenticated:
        return IssuedCredential.objects.none()
    return _issued().filter(Q(award__earner=user) | Q(stack_award__earner=user))


def all_issued() -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.order_by("issued_at", "pk")


@dataclass(frozen=True)
class CredentialState:
    state: str  # "valid", "revoked" or "expired"
    label: str
    detail: str


def credential_state(credential: IssuedCredential, now: datetime | None = None) -> CredentialState:
    """What the credential's page says about it today, in words an earner understands."""
    revocation = getattr(credential, "revocation", None)
    if revocation is not None:
        return CredentialState(
            "revoked",
            "Revoked",
            f"{credential.issuer.name} revoked it on {revocation.revoked_at:%B %-d, %Y}: "
            f"{revocation.reason}",
        )
    valid_until = credential.document.get("validUntil")
    if isinstance(valid_until, str):
        ends = datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
        if ends < (now or timezone.now()):
            return CredentialState("expired", "Expired", f"It was valid until {ends:%B %-d, %Y}.")
    return CredentialState("valid", "Valid", f"Issued by {credential.issuer.name}; not revoked.")


@dataclass(frozen=True)
class CredentialSummary:
    """What a person reads about an issued credential, whichever kind it is."""

    kind: str  # "Micro-credential" or "Stack"
    title: str
    earner_name: str
    summary: str
    band: str  # the rubric band achieved; "" for a stack
    points: int | None
    hours: Any  # estimated hours of a micro-credential; None for a stack
    about_url: str
    about_label: str
    completed_with: list[tuple[str, str]]  # a stack's micro-credentials: (title, credential URL)


def summary_of(credential: IssuedCredential) -> CredentialSummary:
    earner = credential.earner
    name = earner.full_name or "an educator"
    if credential.award_id is None:
        stack = credential.stack_award.stack
        return CredentialSummary(
            "Stack",
            stack.achievement_name,
            name,
            stack.achievement_description or stack.description,
            "",
            None,
            None,
            reverse("catalog:stack", args=[stack.slug]),
            "The micro-credentials in this stack",
            # As signed: its evidence entries are the micro-credentials it was completed with.
            [(entry["name"], entry["id"]) for entry in credential.document.get("evidence", [])],
        )
    version = credential.award.attempt.version
    decision = credential.award.decision
    return CredentialSummary(
        "Micro-credential",
        version.title,
        name,
        version.summary,
        decision.band.label,
        decision.total_points,
        version.estimated_hours,
        reverse("catalog:version", args=[version.micro_credential.slug, version.number]),
        "What it asks and how it is scored",
        [],
    )


# ---------------------------------------------------------------------------- stacks


def held_credentials(
    earner: Any, excluding: IssuedCredential | None = None
) -> dict[int, IssuedCredential]:
    """The earner's micro-credential credentials that count today (not revoked), by the
    micro-credential they were earned for (any version; the latest one if earned twice).
    `excluding` leaves one credential out, to see what would count once it is revoked."""
    held = (
        IssuedCredential.objects.filter(award__earner=earner, revocation__isnull=True)
        .select_related("award__attempt__version", "issuer")
        .order_by("issued_at", "pk")
    )
    if excluding is not None:
        held = held.exclude(pk=excluding.pk)
    return {credential.award.attempt.version.micro_credential_id: credential for credential in held}


@dataclass(frozen=True)
class StackProgress:
    stack: Stack
    complete: bool
    used: list[IssuedCredential]  # the member credentials held, in the stack's order


def stack_progress(
    earner: Any, stack: Stack, held: dict[int, IssuedCredential] | None = None
) -> StackProgress:
    """Whether `earner` completed `stack`: every required member and at least min_electives
    of the others held as credentials that count."""
    held = held_credentials(earner) if held is None else held
    members = list(stack.members.all())
    required_met = all(m.micro_credential_id in held for m in members if m.required)
    electives = sum(1 for m in members if not m.required and m.micro_credential_id in held)
    used = [held[m.micro_credential_id] for m in members if m.micro_credential_id in held]
    complete = bool(used) and required_met and electives >= stack.min_electives
    return StackProgress(stack, complete, used)


def completed_stacks(earner: Any) -> list[Stack]:
    """Published stacks the earner completed and holds no stack credential for yet."""
    held = held_credentials(earner)
    done = StackAward.objects.filter(earner=earner, credential__isnull=False).values("stack_id")
    candidates = (
        Stack.objects.filter(
            status=Stack.Status.PUBLISHED, members__micro_credential_id__in=list(held)
        )
        .exclude(pk__in=done)
        .distinct()
        .prefetch_related("members")
        .order_by("pk")
    )
    return [stack for stack in candidates if stack_progress(earner, stack, held).complete]


def stack_credentials_resting_on(member: IssuedCredential) -> list[IssuedCredential]:
    """The earner's standing stack credentials that would no longer hold without `member`:
    revoking it revokes them too, and the issuer admin is told so first."""
    if member.award_id is None:
        return []
    earner = member.earner
    held = held_credentials(earner, excluding=member)
    standing = (
        IssuedCredential.objects.filter(
            stack_award__earner=earner,
            stack_award__stack__members__micro_credential=member.award.attempt.version.micro_credential_id,
            revocation__isnull=True,
        )
        .select_related("stack_award__stack")
        .prefetch_related("stack_award__stack__members")
        .distinct()
        .order_by("pk")
    )
    return [
        credential
        for credential in standing
        if not stack_progress(earner, credential.stack_award.stack, held).complete
    ]
