"""Writes for earning: start an attempt (with pre-approval where asked), teams, the portfolio
(texts, files, notes on video), submit, withdraw, and the decision coming back from assessment.

Every write locks the attempt row and checks its state under the lock, so a double click, a
second tab or an API retry changes nothing twice. Refusals are ValidationErrors whose message a
teacher can act on; PermissionDenied means "not your attempt" (views answer 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion, RubricComponent
from microcred.orgs import programs
from microcred.orgs.models import Membership, Role, User
from microcred.orgs.services import record_audit

from . import selectors
from .durations import format_duration
from .models import (
    Annotation,
    Artifact,
    Attempt,
    EvidenceItem,
    PreApproval,
    Submission,
    Team,
    TeamMember,
    Upload,
)
from .uploads.policy import TYPE_LABELS

Status = Attempt.Status
MAX_NOTE_SECONDS = 24 * 60 * 60


# ---------------------------------------------------------------------------- cross-app calls
# Imported inside the functions: assessment and notifications import earning in turn.
def _notify(
    users: Iterable[Any], kind: str, *, title: str, url: str, key: str, body: str = ""
) -> None:
    """In-product notice (and email, by preference) after commit, so nobody hears of a
    change that was rolled back."""
    from microcred.notifications.services import notify

    recipients = list(users)

    def send() -> None:
        for user in recipients:
            notify(user, kind, title=title, body=body, url=url, dedupe_key=f"{key}:{user.pk}")

    transaction.on_commit(send)


def _attempt_url(attempt: Attempt) -> str:
    return reverse("earning:attempt", args=[attempt.uuid])


# ---------------------------------------------------------------------------- guards
def _locked(attempt: Attempt) -> Attempt:
    return (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("version", "team")
        .get(pk=attempt.pk)
    )


def _require_member(user: Any, attempt: Attempt) -> None:
    if not selectors.is_attempt_member(user, attempt):
        raise PermissionDenied("This is not your attempt.")


def _require_editable(attempt: Attempt) -> None:
    if attempt.status not in Attempt.EDITABLE:
        raise ValidationError(
            f"This portfolio cannot change now: it is “{attempt.get_status_display().lower()}”."
        )


def _editable(attempt: Attempt, user: Any) -> Attempt:
    """Lock the attempt, then check who and when (call inside a transaction)."""
    attempt = _locked(attempt)
    _require_member(user, attempt)
    _require_editable(attempt)
    return attempt


def _requirement_of(attempt: Attempt, requirement: EvidenceRequirement) -> EvidenceRequirement:
    if requirement.version_id != attempt.version_id:
        raise ValidationError("That part belongs to another micro-credential.")
    return requirement


def _item(attempt: Attempt, requirement: EvidenceRequirement) -> EvidenceItem:
    item, _ = EvidenceItem.objects.get_or_create(attempt=attempt, requirement=requirement)
    return item


# ---------------------------------------------------------------------------- starting
def _deciders(attempt: Attempt) -> list[Any]:
    """Who may answer the attempt's pre-approval request: the school's principals and the
    recognizer admins of the organizations asking for it."""
    preapproval = attempt.preapproval
    ids = set(
        Membership.objects.filter(active=True)
        .filter(
            Q(role=Role.PRINCIPAL, organization_id=attempt.school_id)
            | Q(
                role=Role.RECOGNIZER_ADMIN,
                organization_id__in=selectors.preapproval_recognizer_ids(preapproval),
            )
        )
        .values_list("user_id", flat=True)
    )
    ids.discard(attempt.earner_id)
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _require_published(version: MicroCredentialVersion) -> MicroCredentialVersion:
    version = MicroCredentialVersion.objects.get(pk=version.pk)
    if version.status != MicroCredentialVersion.Status.PUBLISHED:
        raise ValidationError(
            "This version of the micro-credential no longer takes new attempts. "
            "Start from its current version in the catalog."
        )
    return version


def _start_calibration(version: MicroCredentialVersion, user: Any) -> tuple[Attempt, bool]:
    """A scoring lead's anchor written for calibration (issue 9): at this exact version, whose
    rubric the master scores follow; no pre-approval and no team, since nobody earns it."""
    if not user.has_perm("assessment.manage_calibration"):
        raise PermissionDenied("Only scoring leads write calibration anchors.")
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = selectors.calibration_draft(user, version)
    if existing is not None:
        return existing, False
    version = _require_published(version)
    attempt = Attempt.objects.create(
        version=version, earner=user, school=None, purpose=Attempt.Purpose.CALIBRATION
    )
    record_audit(
        user, "earning.attempt.started", attempt, data={"purpose": Attempt.Purpose.CALIBRATION}
    )
    return attempt, True


@transaction.atomic
def start_attempt(
    version: MicroCredentialVersion,
    *,
    user: Any,
    use: str = "",
    rationale: str = "",
    purpose: str = Attempt.Purpose.EARNING,
) -> tuple[Attempt, bool]:
    """Start (or return) the user's attempt at the current version. Returns (attempt, created).

    Pinned to `version` for good (invariant 4). Where the earner's LEA or the state asks for
    pre-approval for a use, the attempt waits for a principal or recognizer to approve it. A
    district piloting the program refuses starts from schools outside its pilot cohort.
    With purpose "calibration", a scoring lead writes an anchor instead (`_start_calibration`)."""
    if purpose == Attempt.Purpose.CALIBRATION:
        return _start_calibration(version, user)
    if purpose != Attempt.Purpose.EARNING:
        raise ValueError(f"Unknown purpose {purpose!r}.")
    # Serialise one person's starts so a double click cannot open two attempts.
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = selectors.open_attempt(user, version)
    if existing is not None:
        return existing, False
    version = _require_published(version)
    school = selectors.earner_school(user)
    refusal = programs.start_refusal(school)
    if refusal:
        raise ValidationError(refusal)
    uses = selectors.preapproval_uses(version, school)
    attempt = Attempt(version=version, earner=user, school=school)
    if uses:
        errors = {}
        if use not in uses:
            errors["use"] = "Choose what you want this micro-credential to count for."
        if not rationale.strip():
            errors["rationale"] = "Say in a few sentences why you want to earn it."
        if errors:
            raise ValidationError(errors)
        attempt.status = Status.AWAITING_PREAPPROVAL
        attempt.save()
        PreApproval.objects.create(attempt=attempt, use=use, rationale=rationale.strip())
        _notify(
            _deciders(attempt),
            "preapproval",
            title=f"{user} asks for pre-approval: {version.title}",
            url=reverse("earning:preapprovals"),
            key=f"preapproval-request:{attempt.uuid}",
        )
    else:
        attempt.save()
    record_audit(user, "earning.attempt.started", attempt, organization=school)
    return attempt, True


@transaction.atomic
def decide_preapproval(
    preapproval: PreApproval, *, user: Any, approve: bool, comment: str = ""
) -> PreApproval:
    preapproval = PreApproval.objects.select_for_update().get(pk=preapproval.pk)
    if not user.has_perm("earning.decide_preapproval", preapproval):
        raise PermissionDenied("You cannot decide this request.")
    if preapproval.status != PreApproval.Status.PENDING:
        raise ValidationError(
            f"This request was already {preapproval.get_status_display().lower()}."
        )
    if not approve and not comment.strip():
        raise ValidationError({"comment": "Say why you decline, so the teacher knows what to do."})
    attempt = _locked(preapproval.attempt)
    preapproval.status = PreApproval.Status.APPROVED if approve else PreApproval.Status.DECLINED
    preapproval.decided_by = user
    preapproval.decided_at = timezone.now()
    preapproval.comment = comment.strip()
    preapproval.save()
    attempt.status = Status.IN_PROGRESS if approve else Status.PREAPPROVAL_DECLINED
    attempt.save(update_fields=["status", "updated"])
    record_audit(
        user,
        "earning.preapproval.decided",
        preapproval,
        organization=attempt.school,
        data={"status": preapproval.status},
    )
    _notify(
        [attempt.earner],
        "preapproval",
        title=f"Pre-approval {preapproval.get_status_display().lower()}: {attempt.version.title}",
        body=preapproval.comment,
        url=_attempt_url(attempt),
        key=f"preapproval-decision:{attempt.uuid}",
    )
    return preapproval


# ---------------------------------------------------------------------------- teams
@transaction.atomic
def create_team(attempt: Attempt, *, user: Any, name: str) -> Team:
    attempt = _editable(attempt, user)
    if attempt.earner_id != user.pk:
        raise PermissionDenied("Only the person who started the attempt creates its team.")
    if attempt.purpose == Attempt.Purpose.CALIBRATION:
        raise ValidationError("An anchor written for calibration has no team.")
    if attempt.team_id:
        raise ValidationError("This attempt already has a team.")
    if attempt.school_id is None:
        raise ValidationError("Teams are made of colleagues of one school, and you have none.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give your team a name."})
    team = Team.objects.create(name=name[:120], school_id=attempt.school_id, created_by=user)
    TeamMember.objects.create(
        team=team, user=user, status=TeamMember.Status.ACTIVE, invited_by=user
    )
    attempt.team = team
    attempt.save(update_fields=["team", "updated"])
    return team


@transaction.atomic
def invite(attempt: Attempt, *, user: Any, invitee_id: int) -> TeamMember:
    attempt = _editable(attempt, user)
    if attempt.team_id is None:
        raise ValidationError("Create a team first.")
    invitee = selectors.school_colleagues(attempt).filter(pk=invitee_id).first()
    if invitee is None:
        raise ValidationError(
            {"invitee": "Choose a colleague from your school who is not on the team yet."}
        )
    return invite_member(attempt, user=user, invitee=invitee)


def invite_member(attempt: Attempt, *, user: Any, invitee: Any) -> TeamMember:
    """Invite a person with an account, from any school or district (earning.teams finds
    them by email). Call inside the transaction, with the attempt locked and checked by
    `_editable`. Someone who declined or left may be invited again."""
    current = TeamMember.objects.filter(team=attempt.team, user=invitee).first()
    if current is not None and current.status == TeamMember.Status.ACTIVE:
        raise ValidationError({"email": f"{invitee} is on the team already."})
    if current is not None and current.status == TeamMember.Status.INVITED:
        raise ValidationError(
            {"email": f"{invitee} is invited already; they see the invitation on their page."}
        )
    member, _ = TeamMember.objects.update_or_create(
        team=attempt.team,
        user=invitee,
        defaults={"status": TeamMember.Status.INVITED, "invited_by": user, "responded": None},
    )
    record_audit(
        user,
        "team.member_invited",
        member,
        data={"team": attempt.team_id, "attempt": str(attempt.uuid), "invitee": invitee.pk},
    )
    _notify(
        [invitee],
        "team_invite",
        title=f"{user} invites you to the team “{attempt.team.name}”: {attempt.version.title}",
        url=reverse("web:dashboard"),
        key=f"team-invite:{member.pk}:{member.created.timestamp():.0f}",
    )
    return member


@transaction.atomic
def respond_to_invitation(member: TeamMember, *, user: Any, accept: bool) -> TeamMember:
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.user_id != user.pk:
        raise PermissionDenied("This invitation is for someone else.")
    if member.status != TeamMember.Status.INVITED:
        raise ValidationError("You already answered this invitation.")
    attempt = member.team.attempt
    if accept and attempt.status not in Attempt.EDITABLE:
        raise ValidationError(
            "This team's portfolio is not open for changes now "
            f"(“{attempt.get_status_display().lower()}”), so it cannot take new members."
        )
    if accept and selectors.open_attempt(user, attempt.version) not in (None, attempt):
        raise ValidationError(
            "You already have your own attempt at this micro-credential, so you cannot also "
            "join a team for it. Ask the team to invite you for another one."
        )
    member.status = TeamMember.Status.ACTIVE if accept else TeamMember.Status.DECLINED
    member.responded = timezone.now()
    member.save()
    record_audit(
        user,
        "team.invitation_accepted" if accept else "team.invitation_declined",
        member,
        data={"team": member.team_id, "attempt": str(attempt.uuid)},
    )
    return member


# ---------------------------------------------------------------------------- the portfolio
@transaction.atomic
def save_text(
    attempt: Attempt, requirement: EvidenceRequirement, *, user: Any, text: str
) -> EvidenceItem:
    attempt = _editable(attempt, user)
    requirement = _requirement_of(attempt, requirement)
    if requirement.kind not in EvidenceRequirement.TEXT_KINDS:
        raise ValidationError("This part takes files, not text.")
    if problem := selectors.word_limit_problem(requirement, text):
        raise ValidationError({"text": problem + " Nothing was saved."})
    item = _item(attempt, requirement)
    item.text = text
    item.updated_by = user
    item.save()
    attempt.save(update_fields=["updated"])
    return item


def _check_upload(requirement: EvidenceRequirement, upload: Upload) -> None:
    if upload.status != Upload.Status.COMPLETE:
        raise ValidationError(f"“{upload.filename}” has not finished uploading.")
    policy = selectors.upload_policy(requirement)
    if not policy.allows(upload.content_type):
        found = TYPE_LABELS.get(upload.content_type, upload.content_type or "not recognised")
        raise ValidationError(
            f"“{requirement.title}” takes {policy.describe()}; the content of "
            f"“{upload.filename}” is {found}, whatever its name says."
        )
    if upload.size > policy.max_bytes:
        raise ValidationError(
            f"“{upload.filename}” is {filesizeformat(upload.size)}; “{requirement.title}” "
            f"takes files of at most {filesizeformat(policy.max_bytes)}."
        )


@transaction.atomic
def attach_upload(
    attempt: Attempt, requirement: EvidenceRequirement, *, user: Any, upload: Upload
) -> Artifact:
    attempt = _editable(attempt, user)
    requirement = _requirement_of(attempt, requirement)
    if requirement.kind in EvidenceRequirement.TEXT_KINDS:
        raise ValidationError("This part takes text, not files.")
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.owner_id != user.pk:
        raise PermissionDenied("Attach only files you uploaded.")
    existing = Artifact.objects.filter(upload=upload).select_related("evidence").first()
    if existing is not None:
        if existing.evidence.attempt_id == attempt.pk:
            return existing  # the same file posted twice: once is enough
        raise ValidationError(f"“{upload.filename}” is already part of another portfolio.")
    _check_upload(requirement, upload)
    item = _item(attempt, requirement)
    if item.artifacts.count() >= requirement.max_files:
        raise ValidationError(
            f"“{requirement.title}” takes at most {requirement.max_files} "
            f"file{'s' if requirement.max_files > 1 else ''}. Remove one first."
        )
    artifact = Artifact.objects.create(evidence=item, upload=upload)
    item.updated_by = user
    item.save()
    return artifact


@transaction.atomic
def remove_artifact(artifact: Artifact, *, user: Any) -> None:
    _editable(artifact.evidence.attempt, user)
    artifact.delete()  # the Upload stays in the person's files; only the link goes


def _component(attempt: Attempt, component_id: int | None) -> RubricComponent | None:
    if not component_id:
        return None
    component = RubricComponent.objects.filter(
        pk=component_id, rubric__version_id=attempt.version_id
    ).first()
    if component is None:
        raise ValidationError({"component": "Choose a component of this micro-credential."})
    return component


def _clean_note(artifact: Artifact, seconds: int, note: str) -> tuple[int, str]:
    errors = {}
    duration = artifact.upload.duration_seconds
    if seconds < 0 or seconds > MAX_NOTE_SECONDS:
        errors["seconds"] = "Give the time as minutes:seconds, such as 3:15."
    elif duration is not None and seconds > round(duration):
        errors["seconds"] = (
            f"The video is only {format_duration(duration)} long; choose a time within it."
        )
    if not note.strip():
        errors["note"] = "Write what happens at this moment."
    if errors:
        raise ValidationError(errors)
    return seconds, note.strip()


@transaction.atomic
def add_annotation(
    artifact: Artifact, *, user: Any, seconds: int, component_id: int | None, note: str
) -> Annotation:
    attempt = _editable(artifact.evidence.attempt, user)
    seconds, note = _clean_note(artifact, seconds, note)
    return Annotation.objects.create(
        artifact=artifact,
        seconds=seconds,
        rubric_component=_component(attempt, component_id),
        note=note,
    )


@transaction.atomic
def update_annotation(
    annotation: Annotation, *, user: Any, seconds: int, component_id: int | None, note: str
) -> Annotation:
    attempt = _editable(annotation.artifact.evidence.attempt, user)
    annotation.seconds, annotation.note = _clean_note(annotation.artifact, seconds, note)
    annotation.rubric_component = _component(attempt, component_id)
    annotation.save()
    return annotation


@transaction.atomic
def delete_annotation(annotation: Annotation, *, user: Any) -> None:
    _editable(annotation.artifact.evidence.attempt, user)
    annotation.delete()


# ---------------------------------------------------------------------------- submitting
def _snapshot(portfolio: selectors.Portfolio, number: int) -> dict[str, Any]:
    """Everything the assessor scores, copied, with each file's content hash (invariant 3)."""
    items = []
    for view in portfolio.items:
        artifacts = [
            {
                "upload": str(a.upload.pk),
                "filename": a.upload.filename,
                "size": a.upload.size,
                "content_type": a.upload.content_type,
                "sha256": a.upload.sha256,
                "duration_seconds": a.upload.duration_seconds,
                "notes": [
                    {"seconds": n.seconds, "component": n.rubric_component_id, "note": n.note}
                    for n in a.annotations
                ],
            }
            for a in view.artifacts
        ]
        items.append(
            {
                "requirement": view.requirement.pk,
                "title": view.requirement.title,
                "text": view.text,
                "words": view.words,
                "artifacts": artifacts,
            }
        )
    return {
        "attempt": str(portfolio.attempt.uuid),
        "version": portfolio.attempt.version_id,
        "number": number,
        "items": items,
    }


def submit(attempt: Attempt, *, user: Any) -> Submission:
    """Freeze the portfolio as submission n and hand it to assessment after commit. An anchor
    written for calibration is frozen the same way but stays out of live scoring: no read is
    planned and nobody is told, until a scoring lead adds it to a calibration set."""
    from microcred.assessment.services import on_submission

    with transaction.atomic():
        attempt = _locked(attempt)
        _require_member(user, attempt)
        if attempt.status in (Status.SUBMITTED, Status.IN_SCORING):
            raise ValidationError("This portfolio is already submitted.")
        _require_editable(attempt)
        portfolio = selectors.portfolio(attempt)
        if not portfolio.complete:
            raise ValidationError(
                ["Your portfolio is not ready to submit yet:"]
                + [problem for _, problem in portfolio.missing]
            )
        number = (attempt.submissions.aggregate(n=Max("number"))["n"] or 0) + 1
        calibration = attempt.purpose == Attempt.Purpose.CALIBRATION
        submission = Submission.objects.create(
            attempt=attempt,
            number=number,
            snapshot=_snapshot(portfolio, number),
            submitted_by=user,
            status=(
                Submission.Status.CALIBRATION
                if calibration
                else Submission.Status.AWAITING_ASSESSOR
            ),
        )
        attempt.status = Status.SUBMITTED
        attempt.save(update_fields=["status", "updated"])
        record_audit(user, "earning.submission.created", submission, organization=attempt.school)
        if calibration:
            return submission
        transaction.on_commit(lambda: on_submission(submission))
        _notify(
            selectors.attempt_members(attempt),
            "submission_received",
            title=f"Submission {number} received: {attempt.version.title}",
            url=_attempt_url(attempt),
            key=f"submission-received:{submission.uuid}",
        )
    return submission


@transaction.atomic
def withdraw(submission: Submission, *, user: Any) -> Submission:
    """Take a submission back before scoring starts; the portfolio becomes editable again."""
    attempt = _locked(submission.attempt)
    _require_member(user, attempt)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status == Submission.Status.CALIBRATION:
        raise ValidationError(
            "An anchor written for calibration cannot be withdrawn: it is never scored live. "
            "Leave it out of your calibration sets, or write a new one."
        )
    if submission.status != Submission.Status.AWAITING_ASSESSOR:
        raise ValidationError(
            "This submission can no longer be withdrawn: "
            f"it is “{submission.get_status_display().lower()}”."
        )
    from microcred.assessment.services import on_withdrawal

    on_withdrawal(submission)  # refuses (ValidationError) once scored: nothing changes then
    submission.status = Submission.Status.WITHDRAWN
    submission.withdrawn_at = timezone.now()
    submission.save()
    attempt.status = Status.IN_PROGRESS
    attempt.save(update_fields=["status", "updated"])
    record_audit(user, "earning.submission.withdrawn", submission, organization=attempt.school)
    return submission


@transaction.atomic
def mark_in_scoring(submission: Submission) -> None:
    """Called by assessment when an assessor opens the submission: no withdrawing after."""
    Submission.objects.filter(pk=submission.pk, status=Submission.Status.AWAITING_ASSESSOR).update(
        status=Submission.Status.IN_SCORING
    )
    Attempt.objects.filter(pk=submission.attempt_id, status=Status.SUBMITTED).update(
        status=Status.IN_SCORING
    )


@transaction.atomic
def apply_decision(submission: Submission, outcome: str) -> None:
    """Record the assessment's outcome ("earned" or "not_yet") on the attempt; idempotent."""
    if outcome not in (Status.EARNED, Status.NOT_YET):
        raise ValueError(f"Unknown outcome {outcome!r}.")
    attempt = _locked(submission.attempt)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status == Submission.Status.WITHDRAWN:
        raise ValidationError("A withdrawn submission cannot be decided.")
    if submission.status == Submission.Status.CALIBRATION:
        raise ValidationError("An anchor written for calibration is never decided.")
    submission.status = Submission.Status.DECIDED
    submission.save()
    attempt.status = outcome
    attempt.save(update_fields=["status", "updated"])
