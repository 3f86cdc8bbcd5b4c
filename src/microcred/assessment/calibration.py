"""Calibration: an assessor earns the right to score an MC's live work by scoring its anchor
set close enough to the master scores (issue 9).

A round gives the assessor one assignment per anchor (purpose "calibration"), scored on the
ordinary scoring page. When the last one is scored the round is judged against the MC's
policy (by default the same outcome on at least 80% of anchors and every component within one
point on at least 80% of components) and a passing round qualifies the assessor until
recalibration falls due.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from microcred.catalog.models import MicroCredential
from microcred.orgs.services import SYSTEM, record_audit

from .conflicts import ConflictIndex, facts_for
from .models import (
    AnchorComponentScore,
    AssessorProfile,
    Assignment,
    CalibrationRound,
    CalibrationSet,
    ComponentScore,
    Qualification,
    Score,
)
from .moderation import policies_for, policy_for

COMPONENT_TOLERANCE = 1  # points a component may differ from the master's and still agree


def _recalibrate_by(mc_id: int, now: datetime) -> datetime:
    return now + timedelta(days=policy_for(mc_id).recalibrate_every_days)


def qualify(
    profile: AssessorProfile,
    micro_credential: MicroCredential,
    *,
    actor: Any,
    source: str,
    calibration_round: CalibrationRound | None = None,
    note: str = "",
) -> Qualification:
    """Record a current qualification (a passed round, or a scoring lead's attestation, which
    an MC needs before it has anchors of its own)."""
    if source == Qualification.Source.ATTESTED and not note.strip():
        raise ValidationError({"note": "Say why you attest this assessor without calibration."})
    now = timezone.now()
    with transaction.atomic():
        qualification, _created = Qualification.objects.update_or_create(
            assessor=profile,
            micro_credential=micro_credential,
            defaults={
                "status": Qualification.Status.QUALIFIED,
                "source": source,
                "calibration_round": calibration_round,
                "qualified_at": now,
                "recalibrate_by": _recalibrate_by(micro_credential.pk, now),
                "note": note.strip()[:300],
            },
        )
        record_audit(
            actor,
            "qualification.granted",
            qualification,
            reason=note.strip(),
            data={"source": source, "micro_credential": micro_credential.pk},
        )
    return qualification


def start_round(
    profile: AssessorProfile, calibration_set: CalibrationSet, *, actor: Any
) -> CalibrationRound:
    """Give the assessor every anchor of the set to score, in a shuffled order."""
    from .anchors import usable_anchors  # here: anchors.py builds on this module

    policy = policy_for(calibration_set.version.micro_credential_id)
    anchors = list(usable_anchors(calibration_set).select_related("submission").order_by("?"))
    # Calibration is blind too: never an anchor from the assessor's own school or district, or
    # from anyone else they may not score.
    facts = facts_for(a.submission for a in anchors)
    index = ConflictIndex.load([profile])
    anchors = [a for a in anchors if profile.pk not in index.conflicted(facts[a.submission_id])]
    if len(anchors) < policy.calibration_min_anchors:
        raise ValidationError(
            f"This calibration set has {len(anchors)} anchor submissions; it needs at least "
            f"{policy.calibration_min_anchors} before anyone can calibrate on it."
        )
    if not calibration_set.active:
        raise ValidationError("This calibration set is retired: choose a current one.")
    with transaction.atomic():
        if CalibrationRound.objects.filter(
            assessor=profile, calibration_set=calibration_set, finished_at__isnull=True
        ).exists():
            raise ValidationError("This assessor already has a calibration round open on it.")
        calibration_round = CalibrationRound.objects.create(
            assessor=profile, calibration_set=calibration_set
        )
        due = timezone.now() + timedelta(days=14)
        Assignment.objects.bulk_create(
            Assignment(
                submission=anchor.submission,
                assessor=profile,
                purpose=Assignment.Purpose.CALIBRATION,
                anchor=anchor,
                calibration_round=calibration_round,
                due_at=due,
            )
            for anchor in anchors
        )
        record_audit(actor, "calibration.started", calibration_round)
    return calibration_round


def _round_agreement(calibration_round: CalibrationRound) -> tuple[int, int, int, int]:
    """Anchors scored, same outcomes as the master, components within tolerance, components
    compared: in three queries for the whole round, however many anchors it holds."""
    scored = list(
        Score.objects.filter(assignment__calibration_round=calibration_round).select_related(
            "assignment__anchor"
        )
    )
    master: dict[int, dict[int, int]] = defaultdict(dict)
    for anchor_id, component_id, points in AnchorComponentScore.objects.filter(
        anchor_id__in=[s.assignment.anchor_id for s in scored]
    ).values_list("anchor_id", "rubric_component_id", "points"):
        master[anchor_id][component_id] = points
    given: dict[int, dict[int, int]] = defaultdict(dict)
    for score_id, component_id, points in ComponentScore.objects.filter(
        score__in=scored
    ).values_list("score_id", "rubric_component_id", "points"):
        given[score_id][component_id] = points
    outcomes = close = compared = 0
    for score in scored:
        masters = master[score.assignment.anchor_id]
        outcomes += score.passed == score.assignment.anchor.master_passed
        close += sum(
            abs(given[score.pk].get(pk, 0) - points) <= COMPONENT_TOLERANCE
            for pk, points in masters.items()
        )
        compared += len(masters)
    return len(scored), outcomes, close, compared


def on_anchor_scored(assignment: Assignment, score: Score) -> None:
    """Called in the scoring transaction: judge the round once its last anchor is scored."""
    calibration_round = assignment.calibration_round
    if calibration_round is None:
        return  # a drift check: monitoring reads it with the other pairs
    if calibration_round.assignments.exclude(status=Assignment.Status.COMPLETED).exists():
        return
    anchors, outcomes, components, compared = _round_agreement(calibration_round)
    mc = calibration_round.calibration_set.version.micro_credential
    policy = policy_for(mc.pk)
    outcome_share = outcomes / anchors if anchors else 0.0
    component_share = components / compared if compared else 0.0
    passed = (
        outcome_share * 100 >= policy.calibration_outcome_percent
        and component_share * 100 >= policy.calibration_component_percent
    )
    calibration_round.finished_at = timezone.now()
    calibration_round.passed = passed
    calibration_round.outcome_agreement = outcome_share
    calibration_round.component_agreement = component_share
    calibration_round.save()
    record_audit(
        assignment.assessor.user,
        "calibration.finished",
        calibration_round,
        data={"passed": passed, "outcomes": outcome_share, "components": component_share},
    )
    if passed:
        qualify(
            assignment.assessor,
            mc,
            actor=assignment.assessor.user,
            source=Qualification.Source.CALIBRATION,
            calibration_round=calibration_round,
        )
        # Imported here: monitoring imports this module.
        from .monitoring import on_recalibrated

        on_recalibrated(assignment.assessor, mc.pk, actor=assignment.assessor.user)


def mark_recalibration_due(now: datetime | None = None) -> int:
    """Qualifications past their date, or of assessors back from a long break, fall due."""
    now = now or timezone.now()
    due = 0
    current = list(Qualification.objects.filter(status=Qualification.Status.QUALIFIED))
    # Each assessor's last score and each MC's policy, read once for the whole sweep.
    last_scores = dict(
        Score.objects.filter(assignment__assessor_id__in={q.assessor_id for q in current})
        .values("assignment__assessor_id")
        .annotate(last=Max("submitted_at"))
        .values_list("assignment__assessor_id", "last")
    )
    policies = policies_for({q.micro_credential_id for q in current})
    for qualification in current:
        policy = policies[qualification.micro_credential_id]
        scored = last_scores.get(qualification.assessor_id)
        # A break runs from the last score or the last qualification, whichever is later: an
        # assessor a lead has just re-qualified is not on a break.
        last = max(filter(None, [scored, qualification.qualified_at]))
        on_break = now - last > timedelta(days=policy.recalibrate_after_break_days)
        if qualification.recalibrate_by <= now or on_break:
            with transaction.atomic():
                qualification.status = Qualification.Status.RECALIBRATE
                qualification.save(update_fields=["status", "updated"])
                record_audit(
                    SYSTEM,
                    "qualification.recalibration_due",
                    qualification,
                    reason="long break" if on_break else "periodic",
                )
            due += 1
    return due
