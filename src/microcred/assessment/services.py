"""Every write of the assessment app: assessor profiles and declared conflicts, assignment,
declining and expiry, withdrawal, scoring, decisions and awards.

Assignment is planned in planning.py (a min-cost flow over the eligible pairs, solver.py); second
reads and their settlement in moderation.py.
Scoring happens in one transaction: the score, its decision, the awards and the earning app's
state change land together or not at all, and each step is idempotent, so a retry after a
crash neither duplicates an award nor changes a submitted score (invariants 3 and 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import OutcomeBand, Rubric, RubricComponent
from microcred.earning import services as earning_services
from microcred.earning.models import Submission
from microcred.earning.selectors import attempt_members
from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs.models import Organization, User
from microcred.orgs.services import SYSTEM, record_audit

from . import calibration, moderation, planning, selectors, signals
from .models import (
    AssessorProfile,
    Assignment,
    Award,
    ComponentScore,
    Decision,
    DeclaredConflict,
    Score,
)

Status = Assignment.Status
REMINDER_BEFORE = timedelta(days=2)


# ---------------------------------------------------------------------------- profiles
def save_profile(
    *, actor: Any, data: Mapping[str, Any], profile: AssessorProfile | None = None
) -> AssessorProfile:
    """Create or change an assessor profile (the form has checked each field)."""
    fields = (
        "home_organization",
        "weekly_capacity",
        "pay_rate",
        "fee_per_submission",
        "active",
    )
    with transaction.atomic():
        if profile is None:
            profile = AssessorProfile(user=data["user"])
        for name in fields:
            if name in data:
                setattr(profile, name, data[name])
        created = profile.pk is None
        profile.save()
        profile.qualified_micro_credentials.set(data.get("qualified_micro_credentials", []))
        profile.qualified_stacks.set(data.get("qualified_stacks", []))
        record_audit(
            actor,
            "assessor.created" if created else "assessor.updated",
            profile,
            organization=profile.home_organization,
            data={"active": profile.active},
        )
    return profile


def set_paused(profile: AssessorProfile, *, paused: bool, actor: Any) -> AssessorProfile:
    """Pause (no new assignments; open ones stay) or resume."""
    with transaction.atomic():
        profile.active = not paused
        profile.save(update_fields=["active"])
        record_audit(actor, "assessor.paused" if paused else "assessor.resumed", profile)
    return profile


def declare_conflict(
    profile: AssessorProfile,
    *,
    reason: str,
    email: str = "",
    organization: Organization | None = None,
) -> DeclaredConflict:
    """An assessor names a person (by email) or an organization they should not score."""
    reason = reason.strip()
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = "Say briefly why, for example “my sister teaches there”."
    person = None
    if email and organization is not None:
        errors["organization"] = "Give either a person or an organization, not both."
    elif email:
        person = User.objects.filter(email__iexact=email).first()
        if person is None:
            errors["email"] = f"No one with the email address {email} uses microcred."
    elif organization is None:
        errors["email"] = "Give the person's email address or choose an organization."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        conflict = DeclaredConflict.objects.create(
            assessor=profile,
            user=person,
            organization=organization,
            reason=reason,
        )
        record_audit(profile.user, "assessor.conflict_declared", conflict, reason=reason)
    return conflict


# ---------------------------------------------------------------------------- assignment
def assign(submission: Submission) -> Assignment | None:
    """Give the reads this submission still needs to eligible assessors (planning.py), or
    leave them waiting for a scoring lead to see in the unassigned list. Returns the first new
    assignment, if any."""
    result = planning.plan_and_assign([submission])
    return result.assigned[0] if result.assigned else None


def unassigned_reason(submission: Submission) -> str:
    """Why the submission's next read finds no one right now ("" if someone is free)."""
    backlog = planning.open_reads([submission])
    if not backlog.reads:
        return ""
    pool = planning.load_pool({submission.attempt.version.micro_credential_id})
    return planning.eligible(pool, backlog, backlog.reads[0])[1]


def on_submission(submission: Submission) -> Assignment | None:
    """Called by earning after a submission commits: draw it for a second read when the
    micro-credential's policy says so, then plan its reads."""
    moderation.draw_second_read(submission)
    return assign(submission)


def plan_backlog(*, replan: bool = True, actor: Any = SYSTEM) -> planning.PlanResult:
    """The batch: every waiting read, and (with `replan`) every assignment nobody has opened
    yet, planned together so rarely held micro-credentials are not stranded."""
    return planning.plan_and_assign(None, replan=replan, actor=actor)


def on_withdrawal(submission: Submission) -> None:
    """Cancel the open assignments of a withdrawn submission; refuse once scoring happened.
    Called inside the earning app's transaction, so a refusal leaves everything unchanged."""
    if Score.objects.filter(assignment__submission=submission).exists():
        raise ValidationError(
            "An assessor has already scored this submission, so it can no longer be withdrawn."
        )
    Assignment.objects.filter(submission=submission, status=Status.ASSIGNED).update(
        status=Status.CANCELLED, closed_at=timezone.now()
    )


def start_scoring(assignment: Assignment, *, assessor: Any) -> None:
    """The assessor opened the submission: from now on the earner can no longer withdraw it."""
    if assignment.status == Status.ASSIGNED and assignment.assessor.user_id == assessor.pk:
        # Opened work is never moved by a re-plan.
        Assignment.objects.filter(pk=assignment.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
        if assignment.purpose == Assignment.Purpose.LIVE:
            earning_services.mark_in_scoring(assignment.submission)


def _lock_open(assignment: Assignment, user: Any) -> Assignment:
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("assessor__user", "submission__attempt__version")
        .get(pk=assignment.pk)
    )
    if locked.assessor.user_id != getattr(user, "pk", None):
        raise PermissionDenied("This submission is not assigned to you.")
    if locked.status != Status.ASSIGNED:
        raise ValidationError(
            f"This assignment is closed ({locked.get_status_display().lower()}): "
            "nothing was changed."
        )
    return locked


def decline(assignment: Assignment, *, assessor: Any, reason: str) -> Assignment | None:
    """The assessor gives the submission back; it goes to someone else when anyone is free."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say briefly why you decline, for example a conflict."})
    with transaction.atomic():
        locked = _lock_open(assignment, assessor)
        locked.status = Status.DECLINED
        locked.decline_reason = reason[:200]
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "decline_reason", "closed_at"])
        record_audit(assessor, "assignment.declined", locked, reason=reason)
        return assign(locked.submission)


@dataclass(frozen=True)
class SweepResult:
    reminded: int
    expired: int
    reassigned: int
    assigned_waiting: int
    recalibration_due: int = 0


def sweep_assignments(now: Any = None) -> SweepResult:
    """Remind once two days before the due date, expire missed assignments and pass them on,
    and try again for submissions still waiting for an assessor."""
    now = now or timezone.now()
    reminded = expired = reassigned = assigned_waiting = 0
    # Lapsed qualifications stop live work before the batch plans anything.
    recalibration_due = calibration.mark_recalibration_due(now)
    due_soon = Assignment.objects.filter(
        status=Status.ASSIGNED,
        reminded_at__isnull=True,
        due_at__gt=now,
        due_at__lte=now + REMINDER_BEFORE,
    ).select_related("assessor__user", "submission")
    for assignment in due_soon:
        with transaction.atomic():
            # The conditional update is the "once": a concurrent sweep updates nothing.
            if not Assignment.objects.filter(pk=assignment.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            notify(
                assignment.assessor.user,
                NotificationKind.DUE_SOON,
                title=f"Scoring due soon: {selectors.submission_code(assignment.submission)}",
                body=(
                    f"Due {timezone.localtime(assignment.due_at):%B %-d, %Y}. Score it or "
                    "decline it so it can go to someone else."
                ),
                url=reverse("assessment:score", args=[assignment.pk]),
                dedupe_key=f"assignment:{assignment.pk}:due_soon",
            )
            reminded += 1
    missed = Assignment.objects.filter(status=Status.ASSIGNED, due_at__lte=now)
    expired_keys: set[tuple[int, str]] = set()
    for assignment in missed.select_related("submission", "assessor"):
        with transaction.atomic():
            if not Assignment.objects.filter(pk=assignment.pk, status=Status.ASSIGNED).update(
                status=Status.EXPIRED, closed_at=now
            ):
                continue
            expired += 1
            expired_keys.add((assignment.submission_id, assignment.kind))
            record_audit(SYSTEM, "assignment.expired", assignment, reason="Missed the due date")
    # The scheduled batch: expired reads and everything else waiting, planned together.
    planned = plan_backlog(replan=True)
    for a in planned.assigned:
        if (a.submission_id, a.kind) in expired_keys:
            reassigned += 1
        else:
            assigned_waiting += 1
    return SweepResult(reminded, expired, reassigned, assigned_waiting, recalibration_due)


# ---------------------------------------------------------------------------- scoring
def band_for(rubric: Rubric, total: int) -> OutcomeBand:
    """The band holding the total; a total below the lowest band falls into the lowest."""
    bands = sorted(rubric.bands.all(), key=lambda b: b.min_points)
    for band in reversed(bands):
        if total >= band.min_points:
            return band
    return bands[0]


@dataclass(frozen=True)
class Marks:
    component: RubricComponent
    points: int
    criteria: list[int]
    feedback: str


def check_marks(
    rubric: Rubric,
    component_points: Mapping[int, Sequence[int]],
    feedback: Mapping[int, str],
    overall_feedback: str,
    minutes_spent: Any,
) -> list[Marks]:
    """Turn the checked details (or chosen level) of each component into points, refusing
    anything that does not fit the rubric. Errors are keyed by form field names."""
    errors: dict[str, str] = {}
    marks: list[Marks] = []
    levels = rubric.scoring == Rubric.Scoring.LEVELS
    for component in rubric.components.prefetch_related("criteria").order_by("order"):
        criteria = {c.pk: c for c in component.criteria.all()}
        chosen = [int(c) for c in component_points.get(component.pk, [])]
        key = f"component_{component.pk}"
        if any(c not in criteria for c in chosen) or len(set(chosen)) != len(chosen):
            errors[key] = f"“{component.title}”: those details are not part of this component."
            continue
        if levels and len(chosen) != 1:
            errors[key] = f"“{component.title}”: choose one level."
            continue
        points = sum(criteria[c].points for c in chosen)
        if points > component.max_points:
            errors[key] = (
                f"“{component.title}”: {points} points is more than its maximum of "
                f"{component.max_points}."
            )
            continue
        text = (feedback.get(component.pk) or "").strip()
        if not text:
            errors[f"feedback_{component.pk}"] = (
                f"Write feedback for “{component.title}”: the earner needs it to grow."
            )
        marks.append(Marks(component, points, sorted(chosen), text))
    if not overall_feedback.strip():
        errors["overall_feedback"] = "Write overall feedback for the earner."
    try:
        minutes = int(minutes_spent)
    except (TypeError, ValueError):
        minutes = -1
    if not 1 <= minutes <= 1440:
        errors["minutes_spent"] = "Enter the minutes you spent scoring, between 1 and 1440."
    if errors:
        raise ValidationError(errors)
    return marks


def submit_score(
    assignment: Assignment,
    *,
    assessor: Any,
    component_points: Mapping[int, Sequence[int]],
    feedback: Mapping[int, str],
    overall_feedback: str,
    minutes_spent: int,
) -> Score:
    """Record an assessor's score. `component_points` maps each rubric component's id to the
    ids of the details checked (or the one level chosen); the points are counted here, never
    taken from the client. A first read decides the submission."""
    with transaction.atomic():
        locked = _lock_open(assignment, assessor)
        if Score.objects.filter(assignment=locked).exists():
            raise ValidationError("This submission is already scored: nothing was changed.")
        rubric = Rubric.objects.get(version_id=locked.submission.attempt.version_id)
        marks = check_marks(rubric, component_points, feedback, overall_feedback, minutes_spent)
        total = sum(m.points for m in marks)
        band = band_for(rubric, total)
        rate, amount = pay_for(locked.assessor, int(minutes_spent))
        score = Score.objects.create(
            assignment=locked,
            total_points=total,
            band=band,
            passed=band.passing,
            overall_feedback=overall_feedback.strip(),
            minutes_spent=int(minutes_spent),
            pay_rate=rate,
            pay_amount=amount,
            funding_organization_id=moderation.policy_for(
                locked.submission.attempt.version.micro_credential_id
            ).funding_organization_id,
        )
        ComponentScore.objects.bulk_create(
            ComponentScore(
                score=score,
                rubric_component=m.component,
                points=m.points,
                criteria_met=m.criteria,
                feedback=m.feedback,
            )
            for m in marks
        )
        locked.status = Status.COMPLETED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        record_audit(assessor, "score.submitted", score, data={"points": total, "band": band.label})
        if locked.purpose != Assignment.Purpose.LIVE:
            calibration.on_anchor_scored(locked, score)
            return score
        deciding = moderation.settle(locked.submission, score)
        if deciding is None:
            planning.plan_and_assign([locked.submission])  # the next read, if someone is free
        else:
            decision = decide(locked.submission, deciding)
            earning_services.apply_decision(locked.submission, decision.outcome)
            _notify_decision(decision)
    return score


def pay_for(profile: AssessorProfile, minutes: int) -> tuple[Decimal, Decimal]:
    """The rate and the amount a read earns: the fixed fee when the assessor has one, else the
    hourly rate for the minutes recorded, to the cent."""
    if profile.fee_per_submission is not None:
        return profile.fee_per_submission, profile.fee_per_submission
    amount = (profile.pay_rate * minutes / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return profile.pay_rate, amount


def decide(submission: Submission, score: Score) -> Decision:
    """The submission's decision from the read that carries it and, when earned, one Award per
    earner. Idempotent: a retry finds what an earlier run wrote, and the unique constraints
    stop any duplicate."""
    outcome = Decision.Outcome.EARNED if score.passed else Decision.Outcome.NOT_YET
    decision, created = Decision.objects.get_or_create(
        submission=submission,
        defaults={
            "outcome": outcome,
            "total_points": score.total_points,
            "band": score.band,
            "score": score,
        },
    )
    if created:
        record_audit(SYSTEM, "decision.made", decision, data={"outcome": outcome})
        transaction.on_commit(lambda: signals.decision_made.send(Decision, decision=decision))
    grant_awards(decision)
    return decision


def grant_awards(decision: Decision) -> list[Award]:
    """One Award per earner (each active team member) of an earned decision, exactly once."""
    if decision.outcome != Decision.Outcome.EARNED:
        return []
    # Imported here, not at the top: this module loads with the assessment views in every web
    # worker, and the credential services bring the signing stack (pyld, lxml, requests,
    # jsonschema) that only granting an award needs (issue 8).
    from microcred.credentials import services as credential_services

    attempt = decision.submission.attempt
    awards = []
    for member in attempt_members(attempt):
        award, created = Award.objects.get_or_create(
            attempt=attempt, earner=member, defaults={"decision": decision}
        )
        if created:
            credential_services.schedule_issuing(award)  # after commit, in the background
        awards.append(award)
    return awards


def _notify_decision(decision: Decision) -> None:
    submission = decision.submission
    attempt = submission.attempt
    earned = decision.outcome == Decision.Outcome.EARNED
    title = (
        f"You earned “{attempt.version.title}”"
        if earned
        else f"Not yet: feedback on “{attempt.version.title}”"
    )
    body = (
        "An assessor scored your evidence in the passing band. Your credential comes next."
        if earned
        else "Read the assessor's feedback for each part, revise your evidence and resubmit."
    )
    for member in attempt_members(attempt):
        notify(
            member,
            NotificationKind.EARNED if earned else NotificationKind.NOT_YET,
            title=title,
            body=body,
            url=reverse("earning:attempt", args=[attempt.uuid]),
            dedupe_key=f"decision:{decision.pk}",
        )
