"""Who may see evidence, and short-lived links to its files (DESIGN.md invariant 6).

Evidence holds student work. It is seen only by the earner (and their team), the assessors
assigned to one of the attempt's submissions, a coach the earner shared it with, and program
admins; every admin access leaves an audit event. Files are never served from a public URL:
`signed_url` checks access and returns a link that works for a few minutes only, for the same
person. On S3 that is a presigned GET; on local disk it points at our `evidence:file` view.
Either way the link is the capability, as a presigned URL is: it needs no session cookie (a
separate file origin never sees one, nor does an API client), so `file_for_link` checks it
again on every request against the person it was made for. How the file is then served
(attachment or inline, headers) is `user_files`' decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from microcred.assessment.models import Assignment
from microcred.orgs import selectors as org_selectors
from microcred.orgs.models import Role, User
from microcred.orgs.services import record_audit

from . import user_files
from .models import Artifact, Attempt, EvidenceShare, Upload
from .selectors import attempt_members, earner_school, is_attempt_member

ADMIN_ACTION = "evidence.admin_access"
# Long enough to start playing a video (players re-request ranges while seeking, each
# checked again), short enough that a copied link is soon useless.
LINK_SECONDS = 5 * 60
_SALT = "microcred.earning.evidence.file"


class Variant(StrEnum):
    ORIGINAL = "original"
    POSTER = "poster"
    PLAYABLE = "playable"


class CopyState(StrEnum):
    """Whether an assessor can open a submitted file now (the same answer on the scoring page
    and in the API)."""

    READY = "ready"
    PREPARING = "preparing"  # the worker has not made its clean copy yet
    UNAVAILABLE = "unavailable"  # no clean copy could be made: the earner was told why


# Where the worker could make no clean copy, its message to the earner starts so (processing
# writes it; `copy_state` reads it).
BLIND_FAILED = (
    "Assessors cannot see this file yet: we could not remove its hidden details (such as "
    "where and on which device it was made), which we do so they never learn who sent it. "
)
COPY_MESSAGES = {
    CopyState.READY: "",
    CopyState.PREPARING: (
        "This file is being prepared: before you see it, we remove the details inside it "
        "that could tell you who made it. Try again in a few minutes; if it is still not "
        "here, tell your scoring lead."
    ),
    CopyState.UNAVAILABLE: (
        "This file cannot be shown: we could not remove the details inside it that could "
        "tell you who made it, and the earner has been told how to send it again. If you "
        "cannot score without it, tell your scoring lead."
    ),
}


class Access(StrEnum):
    """Why someone may see an attempt's evidence."""

    MEMBER = "member"
    ASSESSOR = "assessor"
    COACH = "coach"
    ADMIN = "admin"
    OWNER = "owner"  # an upload not yet attached to any evidence


# ----------------------------------------------------------------------------- who may see
def is_assigned_assessor(user: Any, attempt: Attempt) -> bool:
    """An open or completed assignment on any submission of the attempt; a declined,
    expired or cancelled one gives no access."""
    return Assignment.objects.filter(
        submission__attempt=attempt,
        assessor__user=user,
        status__in=[Assignment.Status.ASSIGNED, Assignment.Status.COMPLETED],
    ).exists()


def is_shared_coach(user: Any, attempt: Attempt) -> bool:
    return EvidenceShare.objects.filter(
        attempt=attempt, coach=user, revoked_at__isnull=True
    ).exists()


def is_evidence_admin(user: Any) -> bool:
    """Superusers and state program admins, who answer for the whole program."""
    return org_selectors.is_active_superuser(user) or org_selectors.is_state_admin(user)


def access_to(user: Any, attempt: Attempt) -> Access | None:
    """Why the user may see the attempt's evidence, or None. Reads only: it records nothing,
    so pages may ask it to decide what to show."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if is_attempt_member(user, attempt):
        return Access.MEMBER
    if is_assigned_assessor(user, attempt):
        return Access.ASSESSOR
    if is_shared_coach(user, attempt):
        return Access.COACH
    if is_evidence_admin(user):
        return Access.ADMIN
    return None


def record_admin_access(user: Any, attempt: Attempt, *, data: dict[str, Any]) -> None:
    record_audit(
        user,
        ADMIN_ACTION,
        attempt,
        reason="An admin opened evidence of an earner.",
        data=data,
        organization=attempt.school,
    )


def can_view_evidence(user: Any, attempt: Attempt) -> bool:
    """Whether the user may see the attempt's evidence now. An admin passes, and the access
    is audited: call this when evidence is actually shown, and `access_to` to decide links."""
    access = access_to(user, attempt)
    if access is Access.ADMIN:
        record_admin_access(user, attempt, data={"what": "evidence"})
    return access is not None


# ------------------------------------------------------------------------------- files
def attempt_of(upload: Upload) -> Attempt | None:
    """The attempt whose evidence uses the upload, if any."""
    artifact = (
        Artifact.objects.filter(upload=upload).select_related("evidence__attempt__school").first()
    )
    return artifact.evidence.attempt if artifact else None


def upload_access(user: Any, upload: Upload) -> tuple[Access | None, Attempt | None]:
    """Why the user may read the upload's files (or None), and the attempt they belong to.
    An upload not attached to evidence yet is its owner's alone."""
    attempt = attempt_of(upload)
    if attempt is None:
        is_owner = getattr(user, "is_authenticated", False) and upload.owner_id == user.pk
        return (Access.OWNER if is_owner else None), None
    return access_to(user, attempt), attempt


@dataclass(frozen=True)
class StoredFile:
    key: str
    content_type: str
    filename: str


def stored_file(upload: Upload, variant: Variant, *, blind: bool = False) -> StoredFile | None:
    """Where a variant of the upload is stored and how to present it; None if it does not
    exist (the upload is unfinished, or has no poster or playable copy). `blind` names the
    file "evidence": a teacher's file name often carries their own or their school's name,
    which an assessor must not see (invariant 2). For the same reason `blind` gives, for the
    original of a recording, picture or document, its copy without metadata (tags, GPS, device), and
    None while the worker has not made it: never the original."""
    if upload.status != Upload.Status.COMPLETE:
        return None
    stem, dot, extension = upload.filename.rpartition(".")
    if not dot:
        stem, extension = upload.filename, ""
    if blind or not stem:
        stem = "evidence"
    if variant is Variant.ORIGINAL and blind and upload.needs_blind_copy:
        if not upload.blind_key:
            return None
        extension = upload.blind_key.rsplit(".", 1)[-1]
        content_type = upload.blind_type or "application/octet-stream"
        return StoredFile(upload.blind_key, content_type, f"{stem}.{extension}")
    if variant is Variant.ORIGINAL:
        content_type = upload.content_type or "application/octet-stream"
        return StoredFile(upload.key, content_type, f"{stem}.{extension}" if extension else stem)
    if variant is Variant.POSTER and upload.poster_key:
        return StoredFile(upload.poster_key, "image/jpeg", f"{stem}.jpg")
    if variant is Variant.PLAYABLE and upload.playable_key:
        extension = upload.playable_key.rsplit(".", 1)[-1]
        content_type = upload.playable_type or "application/octet-stream"
        return StoredFile(upload.playable_key, content_type, f"{stem}.{extension}")
    return None


def copy_state(upload: Upload | None, *, has_link: bool) -> CopyState:
    """What an assessor holding (or not) a link to the upload is told: ready with a link;
    being prepared while the worker has yet to make its clean copy; unavailable when it
    could make none (the file could not be read or cleaned) or the file is not stored."""
    if has_link:
        return CopyState.READY
    if upload is None or upload.status != Upload.Status.COMPLETE:
        return CopyState.UNAVAILABLE
    if not upload.needs_blind_copy or upload.blind_key:
        return CopyState.UNAVAILABLE  # nothing to wait for, yet no link: nothing to show
    failed = upload.probe_status == Upload.ProbeStatus.FAILED or BLIND_FAILED in (
        upload.probe_message
    )
    return CopyState.UNAVAILABLE if failed else CopyState.PREPARING


def signed_url(user: Any, upload: Upload, *, variant: str = "original") -> str:
    """A link to one variant ("original", "poster" or "playable") of the upload's file that
    works for a few minutes, for this user only; "" if that variant does not exist. Raises
    PermissionDenied if the user may not see it. Admin access is audited."""
    wanted = Variant(variant)
    access, attempt = upload_access(user, upload)
    if access is None:
        raise PermissionDenied("You cannot see this evidence.")
    found = stored_file(upload, wanted, blind=access is Access.ASSESSOR)
    if found is None:
        return ""
    if access is Access.ADMIN and attempt is not None:
        record_admin_access(user, attempt, data={"upload": str(upload.pk), "variant": wanted.value})
    if upload.backend == Upload.Backend.S3:
        return storages["default"].url(
            found.key,
            parameters=user_files.presigned_parameters(found.content_type, found.filename),
            expire=LINK_SECONDS,
        )
    token = signing.TimestampSigner(salt=_SALT).sign_object(
        {"upload": str(upload.pk), "variant": wanted.value, "user": user.pk}
    )
    return user_files.link(f"{reverse('evidence:file')}?token={token}")


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class FileGrant:
    upload_id: str
    variant: Variant
    user_id: int


def read_link(token: str) -> FileGrant:
    """What a local-disk link grants; raises LinkExpired or LinkInvalid."""
    try:
        data = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=LINK_SECONDS)
        return FileGrant(str(data["upload"]), Variant(data["variant"]), int(data["user"]))
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except (signing.BadSignature, KeyError, ValueError, TypeError) as exc:
        raise LinkInvalid from exc


def file_for_link(grant: FileGrant, presenter: Any | None) -> StoredFile | None:
    """The file a valid link grants, or None. `presenter` is whoever the request identifies
    (a session or an API token), None when it carries neither.

    The link stays bound to the person it was made for: anyone identified as someone else
    gets nothing, and that person must still have access now (a coach whose share was
    revoked, an assessor whose assignment ended, loses it at once)."""
    if presenter is not None and presenter.pk != grant.user_id:
        return None
    grantee = User.objects.filter(pk=grant.user_id, is_active=True).first()
    upload = Upload.objects.filter(pk=grant.upload_id).first()
    if grantee is None or upload is None:
        return None
    reason = upload_access(grantee, upload)[0]
    if reason is None:
        return None
    return stored_file(upload, grant.variant, blind=reason is Access.ASSESSOR)


def attempt_files(attempt: Attempt) -> QuerySet[Artifact]:
    """The files of the attempt's working portfolio, by requirement."""
    return (
        Artifact.objects.filter(evidence__attempt=attempt)
        .select_related("upload", "evidence__requirement")
        .order_by("evidence__requirement__order", "created")
    )


# ------------------------------------------------------------------------ sharing with coaches
def eligible_coaches(attempt: Attempt) -> QuerySet[User]:
    """Who the earner may share with: coaches of the attempt's school or its district, and
    anyone in a current coaching relationship with the earner; never the team itself."""
    school = attempt.school or earner_school(attempt.earner)
    org_ids = [org_id for org_id in (school and (school.pk, school.parent_id)) or () if org_id]
    at_school = Q(
        memberships__role=Role.COACH,
        memberships__active=True,
        memberships__organization_id__in=org_ids,
    )
    own_coach = Q(coachees__earner_id=attempt.earner_id, coachees__ended__isnull=True)
    members = [member.pk for member in attempt_members(attempt)]
    return (
        User.objects.filter(is_active=True)
        .filter(at_school | own_coach)
        .exclude(pk__in=members)
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def active_shares(attempt: Attempt) -> QuerySet[EvidenceShare]:
    return EvidenceShare.objects.filter(attempt=attempt, revoked_at__isnull=True).select_related(
        "coach"
    )


def share_with_coach(attempt: Attempt, coach: User, *, user: Any) -> EvidenceShare:
    """Let a coach see the attempt's evidence; sharing twice returns the existing share."""
    if not is_attempt_member(user, attempt):
        raise PermissionDenied("Only the earner or their team can share this evidence.")
    if not eligible_coaches(attempt).filter(pk=coach.pk).exists():
        raise ValidationError(
            {
                "coach": "Choose a coach at your school or district, or your own coach: "
                "only they can see your evidence."
            }
        )
    with transaction.atomic():
        existing = active_shares(attempt).filter(coach=coach).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                share = EvidenceShare.objects.create(attempt=attempt, coach=coach, shared_by=user)
        except IntegrityError:  # the same form sent twice at once
            return active_shares(attempt).get(coach=coach)
        record_audit(
            user,
            "evidence.shared",
            attempt,
            data={"coach": coach.pk},
            organization=attempt.school,
        )
    return share


def revoke_share(share: EvidenceShare, *, user: Any) -> bool:
    """Stop sharing; False if it was already revoked (a second click)."""
    if not is_attempt_member(user, share.attempt):
        raise PermissionDenied("Only the earner or their team can stop sharing this evidence.")
    with transaction.atomic():
        revoked = EvidenceShare.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            record_audit(
                user,
                "evidence.unshared",
                share.attempt,
                data={"coach": share.coach_id},
                organization=share.attempt.school,
            )
    return bool(revoked)
