"""Calibration: anchor sets, rounds judged against master scores, the qualification a passed
round earns, how it gates live work, and when recalibration falls due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from microcred.assessment import calibration, services
from microcred.assessment.models import (
    Assignment,
    CalibrationRound,
    Decision,
    Qualification,
    Score,
    ScoringPolicy,
)
from microcred.orgs.models import AuditEvent
from tests.assessment.helpers import (
    ANCHOR_MASTERS,
    marks_for,
    marks_from_points,
    score_at,
    score_round,
)

pytestmark = pytest.mark.django_db
Status = Qualification.Status

# The first five of the shared masters: passing (16+) and failing ones, as a real set mixes them.
MASTERS = ANCHOR_MASTERS[:5]


# ---------------------------------------------------------------------------- starting
def test_a_set_below_the_minimum_refuses_to_start_and_creates_nothing(anchor_set, trainee, lead):
    small = anchor_set(MASTERS[:4])

    with pytest.raises(ValidationError) as caught:
        calibration.start_round(trainee, small, actor=lead)

    assert caught.value.messages == [
        "This calibration set has 4 anchor submissions; it needs at least 5 before anyone "
        "can calibrate on it."
    ]
    assert not CalibrationRound.objects.exists()
    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.filter(action="calibration.started").exists()


def test_the_minimum_follows_the_policy(anchor_set, trainee, lead, version):
    ScoringPolicy.objects.create(
        micro_credential=version.micro_credential, calibration_min_anchors=3
    )
    calibration_round = calibration.start_round(trainee, anchor_set(MASTERS[:3]), actor=lead)
    assert calibration_round.assignments.count() == 3


def test_a_round_gives_one_calibration_assignment_per_anchor(anchor_set, trainee, lead):
    calibration_set = anchor_set(MASTERS)

    calibration_round = calibration.start_round(trainee, calibration_set, actor=lead)

    assignments = list(calibration_round.assignments.all())
    assert {a.anchor_id for a in assignments} == set(
        calibration_set.anchors.values_list("pk", flat=True)
    )
    assert len(assignments) == len(MASTERS)
    assert {(a.assessor_id, a.purpose, a.status) for a in assignments} == {
        (trainee.pk, Assignment.Purpose.CALIBRATION, Assignment.Status.ASSIGNED)
    }
    assert all(a.submission_id == a.anchor.submission_id for a in assignments)
    assert calibration_round.finished_at is None and calibration_round.passed is None
    assert AuditEvent.objects.filter(
        action="calibration.started", target_id=str(calibration_round.pk)
    ).exists()


def test_a_second_open_round_on_the_same_set_is_refused(anchor_set, trainee, lead):
    calibration_set = anchor_set(MASTERS)
    calibration.start_round(trainee, calibration_set, actor=lead)
    with pytest.raises(ValidationError, match="already has a calibration round open"):
        calibration.start_round(trainee, calibration_set, actor=lead)
    assert CalibrationRound.objects.count() == 1
    assert Assignment.objects.count() == len(MASTERS)


def test_a_retired_set_is_refused(anchor_set, trainee, lead):
    calibration_set = anchor_set(MASTERS)
    calibration_set.active = False
    calibration_set.save()
    with pytest.raises(ValidationError, match="retired"):
        calibration.start_round(trainee, calibration_set, actor=lead)
    assert not CalibrationRound.objects.exists()


# ---------------------------------------------------------------------------- judging
@pytest.mark.parametrize("off_by", [0, -1, 1])
def test_scores_close_to_the_masters_pass_and_qualify(off_by, anchor_set, trainee, lead, version):
    # Within a point of the master on every anchor (never across the pass line here).
    calibration_round = calibration.start_round(
        trainee, anchor_set((18, 17, 12, 10, 9)), actor=lead
    )

    score_round(
        calibration_round,
        version,
        lambda anchor: marks_for(version, anchor.master_total + off_by),
    )

    calibration_round.refresh_from_db()
    assert calibration_round.passed is True
    assert calibration_round.finished_at is not None
    assert calibration_round.outcome_agreement == 1.0
    assert calibration_round.component_agreement == 1.0
    qualification = Qualification.objects.get(
        assessor=trainee, micro_credential=version.micro_credential
    )
    assert (qualification.status, qualification.source) == (
        Status.QUALIFIED,
        Qualification.Source.CALIBRATION,
    )
    assert qualification.calibration_round == calibration_round
    expected = timezone.now() + timedelta(days=365)
    assert abs((qualification.recalibrate_by - expected).total_seconds()) < 60
    assert AuditEvent.objects.filter(
        action="qualification.granted", target_id=str(qualification.pk)
    ).exists()


@pytest.mark.parametrize(
    ("far", "passed"),
    [
        (1, True),  # 4 of 5 outcomes (80%), 18 of 20 components close (90%)
        (2, False),  # 3 of 5 outcomes (60%)
        (5, False),
    ],
)
def test_outcome_agreement_below_the_policy_fails(far, passed, anchor_set, trainee, lead, version):
    calibration_round = calibration.start_round(
        trainee, anchor_set((17, 17, 17, 17, 17)), actor=lead
    )
    anchors = list(calibration_round.assignments.order_by("pk").values_list("anchor_id", flat=True))
    missed = set(anchors[:far])

    # 12 instead of 17: the other outcome, and two of four components more than a point off.
    score_round(
        calibration_round,
        version,
        lambda anchor: marks_for(version, 12 if anchor.pk in missed else 17),
    )

    calibration_round.refresh_from_db()
    assert calibration_round.passed is passed
    assert calibration_round.outcome_agreement == pytest.approx((5 - far) / 5)
    assert calibration_round.component_agreement == pytest.approx((20 - 2 * far) / 20)
    assert Qualification.objects.filter(assessor=trainee).exists() is passed


def test_same_outcomes_with_components_far_off_fail(anchor_set, trainee, lead, version):
    calibration_round = calibration.start_round(trainee, anchor_set((17,) * 5), actor=lead)
    # 17 as 2+5+5+5 against the master's 5+5+5+2: right outcome, half the components 3 off.
    score_round(calibration_round, version, lambda anchor: marks_from_points(version, (2, 5, 5, 5)))

    calibration_round.refresh_from_db()
    assert calibration_round.outcome_agreement == 1.0
    assert calibration_round.component_agreement == 0.5
    assert calibration_round.passed is False
    assert not Qualification.objects.filter(assessor=trainee).exists()
    assert (
        AuditEvent.objects.get(
            action="calibration.finished", target_id=str(calibration_round.pk)
        ).data["passed"]
        is False
    )


def test_the_round_is_judged_only_once_every_anchor_is_scored(anchor_set, trainee, lead, version):
    calibration_round = calibration.start_round(trainee, anchor_set(MASTERS), actor=lead)
    first = calibration_round.assignments.select_related("anchor").first()
    score_at(
        first, first.anchor.master_total, overall_feedback="Calibration read.", minutes_spent=30
    )
    calibration_round.refresh_from_db()
    assert calibration_round.finished_at is None and calibration_round.passed is None
    assert not Qualification.objects.filter(assessor=trainee).exists()


# ---------------------------------------------------------------------------- gating live work
def test_only_a_qualification_opens_live_work(anchor_set, trainee, lead, version, make_submission):
    live = make_submission()
    assert services.assign(live) is None
    assert services.unassigned_reason(live) == (
        "No trained assessor holds a current calibration for this micro-credential."
    )
    assert services.plan_backlog().assigned == []

    failed = calibration.start_round(trainee, anchor_set(MASTERS), actor=lead)
    score_round(failed, version, lambda anchor: marks_for(version, 20 - anchor.master_total))
    assert services.assign(live) is None

    passed = calibration.start_round(trainee, failed.calibration_set, actor=lead)
    score_round(passed, version, lambda anchor: marks_for(version, anchor.master_total))
    assignment = services.assign(live)
    assert assignment is not None and assignment.assessor == trainee


def test_calibration_reads_never_decide_their_anchor_submissions(
    anchor_set, trainee, lead, version
):
    calibration_set = anchor_set(MASTERS)
    score_round(
        calibration.start_round(trainee, calibration_set, actor=lead),
        version,
        lambda anchor: marks_for(version, anchor.master_total),
    )
    anchors = calibration_set.anchors.values_list("submission_id", flat=True)
    assert not Decision.objects.filter(submission_id__in=anchors).exists()


# ---------------------------------------------------------------------------- recalibration
def test_recalibration_falls_due_by_date(make_assessor, make_submission, version):
    profile = make_assessor()
    qualification = profile.qualifications.get()
    assert calibration.mark_recalibration_due() == 0
    Qualification.objects.filter(pk=qualification.pk).update(
        recalibrate_by=timezone.now() - timedelta(minutes=1)
    )

    assert calibration.mark_recalibration_due() == 1

    qualification.refresh_from_db()
    assert qualification.status == Status.RECALIBRATE
    event = AuditEvent.objects.get(
        action="qualification.recalibration_due", target_id=str(qualification.pk)
    )
    assert event.reason == "periodic"
    assert services.assign(make_submission()) is None
    assert calibration.mark_recalibration_due() == 0  # already due: not counted again


@pytest.mark.parametrize(("days", "due"), [(119, 0), (121, 1)])
def test_recalibration_falls_due_after_a_long_break(
    days, due, make_assessor, make_submission, version
):
    profile = make_assessor()
    assignment = services.assign(make_submission())
    score_at(assignment, 17, overall_feedback="Well evidenced.", minutes_spent=30)

    assert calibration.mark_recalibration_due(timezone.now() + timedelta(days=days)) == due

    qualification = profile.qualifications.get()
    assert qualification.status == (Status.RECALIBRATE if due else Status.QUALIFIED)
    if due:
        assert (
            AuditEvent.objects.get(
                action="qualification.recalibration_due", target_id=str(qualification.pk)
            ).reason
            == "long break"
        )


def test_the_break_follows_the_policy(make_assessor, version):
    ScoringPolicy.objects.create(
        micro_credential=version.micro_credential, recalibrate_after_break_days=30
    )
    make_assessor()
    assert calibration.mark_recalibration_due(timezone.now() + timedelta(days=29)) == 0
    assert calibration.mark_recalibration_due(timezone.now() + timedelta(days=31)) == 1


def test_a_fresh_qualification_after_a_break_is_not_due(make_assessor, make_submission, version):
    profile = make_assessor()
    assignment = services.assign(make_submission())
    score_at(assignment, 17, overall_feedback="Well evidenced.", minutes_spent=30)
    # The assessor's last score was 200 days ago; a scoring lead attests them again today.
    Score.objects.filter(assignment=assignment).update(
        submitted_at=timezone.now() - timedelta(days=200)
    )
    calibration.qualify(
        profile,
        version.micro_credential,
        actor=profile.user,
        source=Qualification.Source.ATTESTED,
        note="Back from leave; reviewed the anchors together.",
    )

    assert calibration.mark_recalibration_due() == 0
    assert profile.qualifications.get().status == Status.QUALIFIED


# ---------------------------------------------------------------------------- attesting
@pytest.mark.parametrize("note", ["", "   "])
def test_attesting_without_a_note_is_refused(note, trainee, version, lead):
    with pytest.raises(ValidationError) as caught:
        calibration.qualify(
            trainee, version.micro_credential, actor=lead, source="attested", note=note
        )
    assert "note" in caught.value.message_dict
    assert not Qualification.objects.filter(assessor=trainee).exists()
    assert not AuditEvent.objects.filter(action="qualification.granted").exists()


def test_attesting_with_a_note_qualifies_and_audits(trainee, version, lead):
    qualification = calibration.qualify(
        trainee, version.micro_credential, actor=lead, source="attested", note="Pilot scorer."
    )
    assert (qualification.status, qualification.source, qualification.note) == (
        Status.QUALIFIED,
        Qualification.Source.ATTESTED,
        "Pilot scorer.",
    )
    event = AuditEvent.objects.get(action="qualification.granted", target_id=str(qualification.pk))
    assert (event.actor, event.reason) == (lead, "Pilot scorer.")
