"""Credentials from elsewhere: an educator brings an Open Badges 3.0 credential another issuer
signed; a recognizer (their district, or the state) accepts it for some uses or declines it.

`receive` verifies it with the site's verifier and refuses, in plain words, what a recognizer
could not rely on: a credential that fails a check, names someone else, was issued here (it
is already in the educator's record) or was brought before. It then matches it to a catalog
micro-credential where it can. `decide` records the recognizer's answer; an accepted credential
is posted to the ledger by a task once the decision commits, so the recognizer's policies
count it exactly as they count credentials earned here (`posting.post_external`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from microcred.catalog.models import ApprovedUse, MicroCredentialVersion
from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs.models import Organization
from microcred.orgs.selectors import is_active_superuser
from microcred.orgs.services import record_audit

from . import posting
from .models import ExternalCredential, RecognitionRule
from .rules import recognizer_ids_of

Status = ExternalCredential.Status
RECOGNIZER_KINDS = (Organization.Kind.LEA, Organization.Kind.STATE_AGENCY)
NOTIFICATION_KIND = NotificationKind.RECOGNITION
MAX_HOURS = Decimal("9999.9")  # ExternalCredential.hours holds five digits, one decimal


class Refused(ValidationError):
    """The credential cannot be brought; `summary` is the verifier's report when it ran."""

    def __init__(self, message: Any, summary: Any = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.summary = summary


# ---------------------------------------------------------------------------- reading it


def _text(value: Any) -> str:
    """A plain string, or the string of a JSON-LD value object (a name with a language)."""
    if isinstance(value, dict):
        value = value.get("@value")
    return value.strip() if isinstance(value, str) else ""


def _subjects(document: dict) -> list[dict]:
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    return [s for s in subjects if isinstance(s, dict)]


def _achievement(document: dict) -> dict:
    return next(
        (s["achievement"] for s in _subjects(document) if isinstance(s.get("achievement"), dict)),
        {},
    )


def _issuer(document: dict) -> tuple[str, str]:
    """(the issuer's id, its name)."""
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        return _text(issuer.get("id")), _text(issuer.get("name"))
    return _text(issuer), ""


def digest(document: Any) -> str:
    """sha256 of the canonical JSON: the same credential, however it was spaced or ordered."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hash_matches(identity_hash: str, salt: str, email: str) -> bool:
    algorithm, _, expected = identity_hash.partition("$")
    if algorithm.lower() not in ("sha256", "md5") or not expected:
        return False
    # Issuers differ on whether they lower-case the address before hashing it.
    for candidate in {email, email.strip().lower()}:
        found = hashlib.new(algorithm.lower(), (candidate + salt).encode("utf-8")).hexdigest()
        if found.lower() == expected.lower():
            return True
    return False


def names_educator(document: dict, educator: Any) -> bool | None:
    """Whether the credential's subject is the educator: True (their email, hashed or plain,
    or their DID), False (it names only someone else), None (it names nobody)."""
    email = (educator.email or "").strip()
    named = False
    for subject in _subjects(document):
        subject_id = _text(subject.get("id"))
        if subject_id:
            named = True
            if (educator.did and subject_id == educator.did) or (
                email and subject_id.lower() == f"mailto:{email.lower()}"
            ):
                return True
        plain_email = _text(subject.get("email"))
        if plain_email:
            named = True
            if email and plain_email.lower() == email.lower():
                return True
        identities = subject.get("identifier")
        for identity in identities if isinstance(identities, list) else [identities]:
            if not isinstance(identity, dict) or not _text(identity.get("identityHash")):
                continue
            named = True
            value = _text(identity.get("identityHash"))
            kind = _text(identity.get("identityType"))
            if kind == "emailAddress" and email:
                if identity.get("hashed") is True:
                    if _hash_matches(value, _text(identity.get("salt")), email):
                        return True
                elif value.lower() in (email.lower(), f"mailto:{email.lower()}"):
                    return True
            elif kind == "did" and educator.did and value == educator.did:
                return True
    return False if named else None


def issued_here(document: dict) -> str:
    """The name of this site's issuer that signed the credential, or "" when another did:
    judged by the issuer's id and by each proof's key."""
    from microcred.credentials.did import our_issuer_slug
    from microcred.credentials.models import IssuerKey, IssuerProfile

    proofs = document.get("proof")
    controllers = [
        _text(proof.get("verificationMethod")).partition("#")[0]
        for proof in (proofs if isinstance(proofs, list) else [proofs])
        if isinstance(proof, dict)
    ]
    for identifier in {_issuer(document)[0], *controllers} - {""}:
        slug = our_issuer_slug(identifier) if identifier.startswith("did:web:") else None
        if slug is not None:
            profile = IssuerProfile.objects.filter(slug=slug).first()
            if profile is not None:
                return profile.name
        if identifier.startswith("did:key:"):
            key = (
                IssuerKey.objects.filter(public_key_multibase=identifier.removeprefix("did:key:"))
                .select_related("issuer")
                .first()
            )
            if key is not None:
                return key.issuer.name
    return ""


def _catalog_version(achievement_id: str) -> MicroCredentialVersion | None:
    """The version an achievement id names: this site's catalog page of a micro-credential
    (or of one of its versions), as our own credentials write it, or a urn:uuid of either."""
    versions = MicroCredentialVersion.objects.select_related("micro_credential")
    if achievement_id.startswith("urn:uuid:"):
        try:
            identifier = UUID(achievement_id.removeprefix("urn:uuid:"))
        except ValueError:
            return None
        exact = versions.filter(uuid=identifier, published_at__isnull=False).first()
        return (
            exact
            or versions.filter(
                micro_credential__uuid=identifier, status=MicroCredentialVersion.Status.PUBLISHED
            ).first()
        )
    site = settings.SITE_URL
    if not achievement_id.startswith(site + "/"):
        return None
    try:
        match = resolve(urlsplit(achievement_id[len(site) :]).path)
    except Resolver404:
        return None
    if match.view_name not in ("catalog:detail", "catalog:version"):
        return None
    of_mc = versions.filter(micro_credential__slug=match.kwargs["slug"])
    number = match.kwargs.get("number")
    exact = (
        of_mc.filter(number=number, published_at__isnull=False).first()
        if number is not None
        else None
    )
    return exact or of_mc.filter(status=MicroCredentialVersion.Status.PUBLISHED).first()


def match_version(achievement: dict) -> MicroCredentialVersion | None:
    """The catalog micro-credential an achievement is: by its id, else by its exact name
    (ignoring case) when one published micro-credential alone has that name."""
    achievement_id = _text(achievement.get("id"))
    if achievement_id:
        found = _catalog_version(achievement_id)
        if found is not None:
            return found
    name = _text(achievement.get("name"))
    if not name:
        return None
    candidates = list(
        MicroCredentialVersion.objects.filter(
            status=MicroCredentialVersion.Status.PUBLISHED, title__iexact=name
        )[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def hours_of(achievement: dict) -> Decimal | None:
    """The hours the achievement states (a positive number in `hours` or
    `creditsAvailable`), to a tenth; None when it states none."""
    for field in ("hours", "creditsAvailable"):
        value = achievement.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        try:
            hours = Decimal(str(value)).quantize(Decimal("0.1"))
        except InvalidOperation:
            continue
        if Decimal("0") < hours <= MAX_HOURS:
            return hours
    return None


def _issued_on(document: dict) -> date | None:
    for field in ("validFrom", "issuanceDate", "awardedDate"):
        value = _text(document.get(field))
        if value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------------------- who decides


def recognizers_for(educator: Any) -> list[Organization]:
    """Where an educator may send a credential: their district(s), then the state."""
    ids = posting.recognizer_ids(educator.pk)
    found = Organization.objects.filter(pk__in=ids, kind__in=RECOGNIZER_KINDS)
    return sorted(found, key=lambda org: (org.kind != Organization.Kind.LEA, org.name))


def brought_by(educator: Any) -> QuerySet[ExternalCredential]:
    return ExternalCredential.objects.filter(educator=educator).select_related(
        "recognizer", "matched_version__micro_credential"
    )


def use_labels(uses: Iterable[str]) -> list[str]:
    labels = dict(ApprovedUse.choices)
    return [labels.get(use, use) for use in uses]


def _visible_to(user: Any) -> QuerySet[ExternalCredential]:
    credentials = ExternalCredential.objects.select_related(
        "educator", "recognizer", "matched_version__micro_credential", "decided_by"
    )
    if is_active_superuser(user):
        return credentials
    return credentials.filter(recognizer_id__in=recognizer_ids_of(user))


def waiting_for(user: Any) -> QuerySet[ExternalCredential]:
    """The credentials waiting for a decision of an office the user acts for, oldest first."""
    return _visible_to(user).filter(status=Status.WAITING).order_by("uploaded", "pk")


def decided_for(user: Any, limit: int = 20) -> list[ExternalCredential]:
    return list(
        _visible_to(user).exclude(status=Status.WAITING).order_by("-decided_at", "-pk")[:limit]
    )


def for_decision(user: Any, pk: int) -> ExternalCredential | None:
    """The credential, if the user decides for its recognizer; else None (never revealed)."""
    return _visible_to(user).filter(pk=pk).first()


def report(external: ExternalCredential) -> Any:
    """The verifier's report on the credential today (it may have been revoked since)."""
    from microcred.credentials import selectors

    return selectors.summarize(selectors.verify(external.document), external.document)


def uses_counted(recognizer_id: int, on: date | None = None) -> list[tuple[str, str]]:
    """(use, label) of each use the recognizer's policies in force count today: what
    accepting a credential for that use would grant."""
    rules = [
        rule
        for policy in posting.policies_in_force({recognizer_id}, on or timezone.localdate())
        for rule in policy.rules.all()
        if rule.kind != RecognitionRule.Kind.ROLE
    ]
    counted = {rule.use for rule in rules}
    return [(use, label) for use, label in ApprovedUse.choices if use in counted]


# ---------------------------------------------------------------------------- services


def _refuse_unverified(summary: Any) -> Refused:
    failed = [row for row in summary.rows if row.status == "failed"]
    messages = [
        "This credential did not pass verification, so it cannot be added. "
        + summary.headline.removeprefix("Not verified. ")
    ]
    messages += [f"{row.label}: {row.message}" for row in failed[1:]]
    return Refused(messages, summary, code="unverified")


def receive(educator: Any, raw: bytes | str, recognizer: Organization) -> ExternalCredential:
    """Verify the credential the educator brought and send it to `recognizer`, or refuse it
    (Refused) with what to do instead. Nothing is stored when it is refused."""
    from microcred.credentials import selectors

    if recognizer.pk not in {org.pk for org in recognizers_for(educator)}:
        raise Refused(
            {"recognizer": "Choose your own district or your state to recognize it."},
            code="recognizer",
        )
    summary = selectors.verify_text(raw)
    if not summary.verified:
        raise _refuse_unverified(summary)
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    document = json.loads(text)

    named = names_educator(document, educator)
    if named is None:
        raise Refused(
            "This credential does not say who earned it (it holds no email address or DID), "
            "so it cannot count as yours. Ask its issuer for a credential that names you.",
            summary,
            code="no_subject",
        )
    if not named:
        raise Refused(
            f"This credential was issued to someone else: it names neither your email "
            f"address ({educator.email}) nor your DID. Add only credentials issued to you; if "
            "it was issued to another email address of yours, ask its issuer to reissue it.",
            summary,
            code="not_yours",
        )
    here = issued_here(document)
    if here:
        raise Refused(
            f"This credential was issued on this site, by {here}: this one is already in your "
            "record, and counts without being added.",
            summary,
            code="issued_here",
        )
    fingerprint = digest(document)
    earlier = ExternalCredential.objects.filter(educator=educator, digest=fingerprint).first()
    if earlier is not None:
        raise _already(earlier, summary)

    achievement = _achievement(document)
    matched = match_version(achievement)
    hours = hours_of(achievement)
    if hours is None and matched is not None:
        hours = matched.estimated_hours
    issuer_id, issuer_name = _issuer(document)
    name = _text(document.get("name")) or _text(achievement.get("name")) or "Untitled credential"
    try:
        with transaction.atomic():
            external = ExternalCredential.objects.create(
                educator=educator,
                document=document,
                digest=fingerprint,
                name=name[:300],
                issuer_name=issuer_name[:300],
                issuer_id=issuer_id[:500],
                issued_on=_issued_on(document),
                hours=hours,
                matched_version=matched,
                recognizer=recognizer,
            )
            record_audit(
                educator,
                "recognition.external.received",
                external,
                organization=recognizer,
                data={
                    "digest": fingerprint,
                    "issuer": issuer_id,
                    "matched_version": matched.pk if matched else None,
                },
            )
    except IntegrityError:  # the same file sent twice at once: the first one won
        earlier = ExternalCredential.objects.get(educator=educator, digest=fingerprint)
        raise _already(earlier, summary) from None
    return external


def _already(earlier: ExternalCredential, summary: Any) -> Refused:
    return Refused(
        f"You already added this credential on {earlier.uploaded:%B %-d, %Y}; it is "
        f"{earlier.get_status_display().lower()}. Each credential is added once.",
        summary,
        code="duplicate",
    )


def decide(
    actor: Any,
    external: ExternalCredential,
    *,
    accept: bool,
    uses: Iterable[str] = (),
    comment: str = "",
) -> ExternalCredential:
    """Accept the credential for `uses` (ApprovedUse values), or decline it with a comment
    the educator reads. Accepting posts it to the ledger once this commits."""
    if not actor.has_perm("recognition.decide_external", external):
        raise PermissionDenied("Only the office it was sent to decides on this credential.")
    chosen = sorted(set(uses))
    comment = comment.strip()
    errors: dict[str, str] = {}
    if any(use not in ApprovedUse.values for use in chosen):
        errors["uses"] = "Choose among the uses listed."
    elif accept and not chosen:
        errors["uses"] = "Choose at least one use it counts for, or decline it."
    if not accept and not comment:
        errors["comment"] = "Say why it is declined: the educator reads this."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = ExternalCredential.objects.select_for_update().get(pk=external.pk)
        if locked.status != Status.WAITING:
            raise ValidationError(
                f"This credential was already {locked.get_status_display().lower()} on "
                f"{locked.decided_at:%B %-d, %Y}; nothing was changed."
            )
        locked.status = Status.ACCEPTED if accept else Status.DECLINED
        locked.accepted_uses = chosen if accept else []
        locked.comment = comment
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(
            update_fields=["status", "accepted_uses", "comment", "decided_by", "decided_at"]
        )
        record_audit(
            actor,
            "recognition.external.accepted" if accept else "recognition.external.declined",
            locked,
            reason=comment,
            organization=locked.recognizer,
            data={"uses": locked.accepted_uses},
        )
        _tell_educator(locked)
        if accept:
            from .tasks import post_external_credential

            pk = locked.pk
            transaction.on_commit(lambda: post_external_credential.enqueue(pk))
    return locked


def _tell_educator(external: ExternalCredential) -> None:
    office = external.recognizer.name
    if external.status == Status.ACCEPTED:
        uses = ", ".join(label.lower() for label in use_labels(external.accepted_uses))
        title = f"{office} accepted “{external.name}”"
        body = f"It now counts for {uses}, under {office}'s policies in force."
    else:
        title = f"{office} declined “{external.name}”"
        body = f"Their reason: {external.comment}"
    notify(
        external.educator,
        NOTIFICATION_KIND,
        title=title,
        body=body,
        url=reverse("recognition:external_mine"),
        dedupe_key=f"external-credential-{external.pk}-decided",
    )


__all__ = [
    "Refused",
    "brought_by",
    "decide",
    "decided_for",
    "digest",
    "for_decision",
    "issued_here",
    "match_version",
    "names_educator",
    "receive",
    "recognizers_for",
    "report",
    "use_labels",
    "uses_counted",
    "waiting_for",
]
