"""Writes about issuers and status lists: profiles, signing keys, rotation, revocation bits.

Each function checks that the actor may act (views check too; services do not trust them),
changes what it changes in one transaction, and records an AuditEvent in the same one. Bad
input raises ValidationError with plain messages keyed by field; nothing is written then.
`sign_as_issuer` is what issuing (from awards) signs with; `issue_for_award` issues an award's
credential exactly once, `revoke` and `set_public` are the issuer's and the earner's say over it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from microcred.assessment.models import Award
from microcred.catalog.models import Stack
from microcred.orgs.models import Organization
from microcred.orgs.services import SYSTEM, record_audit

from . import clr, issuing, keystore, selectors, signals
from .did import verification_method
from .keys import generate_key
from .models import (
    STATUS_LIST_SIZE,
    IssuedCredential,
    IssuerKey,
    IssuerProfile,
    Revocation,
    StackAward,
    StatusList,
)
from .proofs import sign_credential, xsd_datetime
from .status_list import bit_is_set, list_credential, status_entry, with_bit_set

# What the profile form may change; the slug is fixed once credentials name it.
PROFILE_FIELDS = ("name", "url", "email", "description", "image_url", "identifier_method")


class SigningUnavailable(RuntimeError):
    """The issuer has no key to sign with (or it cannot be opened)."""


def _require(actor: Any, profile_or_org: IssuerProfile | Organization) -> None:
    if not actor.has_perm("credentials.manage_issuer", profile_or_org):
        raise PermissionDenied("Only an issuer admin of this organization may do that.")


def _add_key(profile: IssuerProfile) -> IssuerKey:
    key = generate_key()
    sealed, sealed_with = keystore.seal(key)
    number = (profile.keys.aggregate(n=Max("number"))["n"] or 0) + 1
    return IssuerKey.objects.create(
        issuer=profile,
        number=number,
        public_key_multibase=key.public_key_multibase,
        encrypted_seed=sealed,
        wrapping_key_id=sealed_with,
    )


def _locked(profile: IssuerProfile) -> IssuerProfile:
    """The profile row, locked until the transaction ends: one key change at a time."""
    return IssuerProfile.objects.select_for_update().get(pk=profile.pk)


# ---------------------------------------------------------------------------- profiles


def create_issuer_profile(actor: Any, organization: Organization) -> IssuerProfile:
    """Set up an issuer organization to sign credentials: its profile and first key."""
    _require(actor, organization)
    if organization.kind != Organization.Kind.ISSUER:
        raise ValidationError(f"{organization.name} is not an issuer organization.")
    with transaction.atomic():
        if IssuerProfile.objects.filter(organization=organization).exists():
            raise ValidationError(f"{organization.name} is already set up as an issuer.")
        profile = IssuerProfile.objects.create(
            organization=organization,
            slug=organization.slug,
            name=organization.name,
            url=organization.website,
        )
        key = _add_key(profile)
        record_audit(
            actor,
            "issuer.created",
            profile,
            organization=organization,
            data={"key": key.fragment, "public_key": key.public_key_multibase},
        )
    return profile


def update_issuer_profile(actor: Any, profile: IssuerProfile, **changes: Any) -> IssuerProfile:
    """Change the profile's public details (PROFILE_FIELDS)."""
    _require(actor, profile)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        profile = _locked(profile)
        changed = [name for name, value in changes.items() if getattr(profile, name) != value]
        for name in changed:
            setattr(profile, name, changes[name])
        profile.full_clean()
        if not changed:
            return profile
        profile.save()
        if "identifier_method" in changed:
            # The issuer's id and key references change: lists are re-signed under the new id.
            _republish_lists(profile)
        record_audit(
            actor,
            "issuer.updated",
            profile,
            organization=profile.organization,
            data={"fields": changed},
        )
    return profile


# ---------------------------------------------------------------------------- keys


def rotate_key(profile: IssuerProfile, actor: Any = SYSTEM, reason: str = "") -> IssuerKey:
    """Retire the current key and make a new one the key the issuer signs with.

    Retired keys stay in the issuer's DID document, so credentials they signed keep
    verifying; status lists are re-signed with the new key.
    """
    _require(actor, profile)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the key is being replaced (it is recorded)."})
    with transaction.atomic():
        profile = _locked(profile)
        retired = profile.keys.filter(retired_at__isnull=True).first()
        if retired is not None:
            retired.retired_at = timezone.now()
            retired.save(update_fields=["retired_at"])
        key = _add_key(profile)
        _republish_lists(profile)
        record_audit(
            actor,
            "issuer.key_rotated",
            profile,
            reason=reason,
            organization=profile.organization,
            data={
                "retired": retired.fragment if retired else None,
                "new": key.fragment,
                "public_key": key.public_key_multibase,
            },
        )
    return key


def sign_as_issuer(profile: IssuerProfile, document: dict, created: datetime | None = None) -> dict:
    """`document` signed with the issuer's current key (eddsa-rdfc-2022, assertionMethod)."""
    key_row = profile.keys.filter(retired_at__isnull=True).first()
    if key_row is None:
        raise SigningUnavailable(f"{profile.name} has no current signing key.")
    try:
        key = keystore.unseal(
            key_row.encrypted_seed, key_row.public_key_multibase, key_row.wrapping_key_id
        )
    except keystore.KeystoreError as error:
        raise SigningUnavailable(f"{profile.name}'s {key_row.fragment}: {error}") from error
    return sign_credential(
        document, key, verification_method(profile, key_row), created or timezone.now()
    )


# ---------------------------------------------------------------------------- status lists


def _publish(status_list: StatusList) -> None:
    """Sign the list's current bits into its BitstringStatusListCredential (not saved)."""
    profile = status_list.issuer
    now = timezone.now()
    document = list_credential(status_list, selectors.identifier(profile), xsd_datetime(now))
    status_list.credential = sign_as_issuer(profile, document, now)


def _republish_lists(profile: IssuerProfile) -> None:
    for status_list in StatusList.objects.select_for_update().filter(issuer=profile):
        status_list.issuer = profile
        _publish(status_list)
        status_list.save(update_fields=["credential", "updated"])


def _new_status_list(profile: IssuerProfile) -> StatusList:
    size = STATUS_LIST_SIZE
    status_list = StatusList(
        issuer=profile,
        size=size,
        multiplier=2 * secrets.randbelow(size // 2) + 1,  # odd: a one-to-one scramble
        offset=secrets.randbelow(size),
    )
    status_list.save()  # the URL in the credential needs the row's uuid
    _publish(status_list)
    status_list.save(update_fields=["credential"])
    return status_list


def allocate_index(profile: IssuerProfile) -> tuple[StatusList, int]:
    """A fresh revocation entry for one credential: (its list, its index). Never reused.

    The issuer's row is locked first, so concurrent issuers queue here rather than both
    opening a new list or reading the same next position.
    """
    with transaction.atomic():
        profile = _locked(profile)
        status_list = (
            StatusList.objects.select_for_update()
            .filter(
                issuer=profile,
                purpose=StatusList.Purpose.REVOCATION,
                next_position__lt=F("size"),
            )
            .order_by("created", "pk")
            .first()
        )
        if status_list is None:
            status_list = _new_status_list(profile)
        position = status_list.next_position
        status_list.next_position = position + 1
        status_list.save(update_fields=["next_position", "updated"])
    return status_list, status_list.index_at(position)


def set_revoked(status_list: StatusList, index: int) -> bool:
    """Set the revocation bit of `index` and re-sign the list; False if it was set already.

    Revocation is final (the specification's "revocation" purpose), so there is no unset.
    """
    with transaction.atomic():
        status_list = (
            StatusList.objects.select_for_update(of=("self",))
            .select_related("issuer")
            .get(pk=status_list.pk)
        )
        if not status_list.allocated(index):
            raise ValidationError(
                f"Index {index} of this status list has not been given to any credential."
            )
        bits = bytes(status_list.bits)
        if bit_is_set(bits, index):
            return False
        status_list.bits = with_bit_set(bits, index)
        _publish(status_list)
        status_list.save(update_fields=["bits", "credential", "updated"])
    return True


# ---------------------------------------------------------------------------- issued credentials


def schedule_issuing(award: Any) -> None:
    """Issue the award's credential in the background once the award is committed."""
    from .tasks import issue_credential

    transaction.on_commit(lambda: issue_credential.enqueue(award.pk))


def _issuer_profile(award: Any) -> IssuerProfile:
    organization = issuing.issuer_organization(award)
    profile = IssuerProfile.objects.filter(organization=organization).first()
    return profile or create_issuer_profile(SYSTEM, organization)


def _issue(profile: IssuerProfile, build: Any, **earned_for: Any) -> IssuedCredential:
    """Sign and store one credential for what it was `earned_for` (award= or stack_award=),
    inside the caller's transaction, which holds the lock on that source row."""
    # allocate_index locks the issuer row until we commit: no key rotation in between,
    # so the active key read next is the one sign_as_issuer signs with.
    status_list, index = allocate_index(profile)
    key = profile.keys.get(retired_at__isnull=True)
    credential = IssuedCredential(
        issuer=profile,
        key=key,
        status_list=status_list,
        status_index=index,
        issued_at=timezone.now().replace(microsecond=0),
        **earned_for,
    )
    details = issuing.Issuing(
        credential_uuid=credential.uuid,
        issuer=selectors.profile_document(profile, standalone=False),
        status_entry=status_entry(status_list, index),
        issued_at=credential.issued_at,
    )
    credential.document = sign_as_issuer(profile, build(details), credential.issued_at)
    credential.save()
    transaction.on_commit(
        lambda: signals.credential_issued.send(IssuedCredential, credential=credential)
    )
    record_audit(
        SYSTEM,
        "credential.issued",
        credential,
        organization=profile.organization,
        data={
            **{name: source.pk for name, source in earned_for.items()},
            "key": key.fragment,
            "status_index": index,
        },
    )
    return credential


def _check_stacks_after_commit(earner_id: int) -> None:
    from .tasks import issue_stack_credentials

    transaction.on_commit(lambda: issue_stack_credentials.enqueue(earner_id))


def issue_for_award(award: Any) -> IssuedCredential:
    """The award's signed credential, issued exactly once.

    The award row is locked while we look and issue, so a retry, a second worker or a re-run
    after a crash finds the credential the first one committed (a revoked one included) instead
    of issuing another; the one-to-one on `award` backs this up in the database. Once it is
    committed, the earner's stacks are checked: this credential may complete one.
    """
    with transaction.atomic():
        award = (
            Award.objects.select_for_update(of=("self",))
            .select_related("earner", "decision__band", "decision__submission", "attempt")
            .get(pk=award.pk)
        )
        existing = IssuedCredential.objects.filter(award=award).first()
        if existing is not None:
            return existing
        credential = _issue(
            _issuer_profile(award),
            lambda details: issuing.build_credential(award, details),
            award=award,
        )
        _check_stacks_after_commit(award.earner_id)
    return credential


def issue_for_stack(earner: Any, stack: Stack) -> IssuedCredential:
    """The credential of a stack the earner completed, issued exactly once.

    The earner's row is the lock: one stack check per earner at a time, so a retry or a second
    worker finds the StackAward and credential the first one committed. Signed by the issuer of
    the earner's latest credential in the stack.
    """
    with transaction.atomic():
        get_user_model().objects.select_for_update().get(pk=earner.pk)
        stack_award = (
            StackAward.objects.filter(earner=earner, stack=stack)
            .select_related("credential")
            .first()
        )
        existing = getattr(stack_award, "credential", None) if stack_award else None
        if existing is not None:
            return existing
        progress = selectors.stack_progress(earner, stack)
        if not progress.complete:
            raise ValidationError(f"{earner} has not completed “{stack.title}” yet.")
        stack_award = stack_award or StackAward.objects.create(earner=earner, stack=stack)
        parts = [(c.document["name"], c.document["id"], c.issued_at) for c in progress.used]
        latest = max(progress.used, key=lambda c: (c.issued_at, c.pk))
        return _issue(
            latest.issuer,
            lambda details: issuing.build_stack_credential(stack_award, parts, details),
            stack_award=stack_award,
        )


def issue_completed_stacks(earner: Any) -> list[IssuedCredential]:
    """Issue the credential of every stack the earner has completed and not yet been given."""
    return [issue_for_stack(earner, stack) for stack in selectors.completed_stacks(earner)]


def whole_record(earner: Any) -> dict | None:
    """The earner's CLR 2.0 record, signed now by the issuer of their latest credential; None
    when they hold no credential that counts (a signed empty record would say nothing)."""
    held = list(
        selectors.credentials_of(earner).filter(revocation__isnull=True).order_by("issued_at", "pk")
    )
    if not held:
        return None
    profile = held[-1].issuer
    now = timezone.now().replace(microsecond=0)
    issuer = selectors.profile_document(profile, standalone=False)
    return sign_as_issuer(profile, clr.build_record(earner, held, issuer, now), now)


def set_public(actor: Any, credential: IssuedCredential, public: bool) -> IssuedCredential:
    """The earner shows or hides their credential's page (and its JSON) from everyone else."""
    if not actor.has_perm("credentials.change_credential_visibility", credential):
        raise PermissionDenied("Only the earner decides who may see this credential.")
    with transaction.atomic():
        credential = IssuedCredential.objects.select_for_update().get(pk=credential.pk)
        if credential.public == public:
            return credential
        credential.public = public
        credential.save(update_fields=["public"])
        record_audit(
            actor,
            "credential.made_public" if public else "credential.made_private",
            credential,
            organization=credential.issuer.organization,
        )
    return credential


def revoke(actor: Any, credential: IssuedCredential, reason: str) -> Revocation:
    """Revoke for good: set the credential's status-list bit and keep why and by whom.

    The credential and its document stay (history, and a verifier must still find the bit).
    A stack credential that no longer holds without this one is revoked with it.
    """
    if not actor.has_perm("credentials.revoke_credential", credential):
        raise PermissionDenied("Only an issuer admin of the issuing organization may revoke.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the credential is revoked (the earner sees it)."})
    with transaction.atomic():
        revocation = _revoke_one(actor, credential, reason)
        # A stack credential says its holder earned every step it names; without this one
        # that is no longer true, so it goes too, whoever issued it: it rested on this word.
        for stack_credential in selectors.stack_credentials_resting_on(revocation.credential):
            _revoke_one(
                actor,
                stack_credential,
                f"It rested on “{revocation.credential.document['name']}”, which was revoked: "
                f"{reason}",
                data={"because_of": str(revocation.credential.uuid)},
            )
    return revocation


def _revoke_one(
    actor: Any, credential: IssuedCredential, reason: str, data: dict[str, str] | None = None
) -> Revocation:
    credential = (
        IssuedCredential.objects.select_for_update(of=("self",))
        .select_related("issuer__organization", "status_list")
        .get(pk=credential.pk)
    )
    earlier = Revocation.objects.filter(credential=credential).first()
    if earlier is not None:
        raise ValidationError(
            f"This credential was already revoked on {earlier.revoked_at:%B %-d, %Y}: "
            "nothing was changed."
        )
    set_revoked(credential.status_list, credential.status_index)
    revocation = Revocation.objects.create(
        credential=credential,
        reason=reason,
        revoked_by=actor if getattr(actor, "pk", None) else None,
    )
    transaction.on_commit(
        lambda: signals.credential_revoked.send(
            IssuedCredential, credential=credential, revocation=revocation
        )
    )
    record_audit(
        actor,
        "credential.revoked",
        credential,
        reason=reason,
        data=data,
        organization=credential.issuer.organization,
    )
    return revocation
