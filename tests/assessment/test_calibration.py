"""Calibration: anchor sets, rounds judged against master scores, the qualification a passed
round earns, how it gates live work, and when recalibration falls due."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from microcred.assessment import calibration, services
from microcred.assessment.models import (
    AnchorComponentScore,
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    CalibrationRound,
    CalibrationSet,
    Decision,
    Qualification,
    Score,
    ScoringPolicy,
)
from microcred.catalog.models import MicroCredentialVersion, Rubric
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.helpers import component_ids, feedback_for_all, marks_for

pytestmark = pytest.mark.django_db
Status = Qualification.Status

# Master totals of the anchors: passing (16+) and failing ones, as a real set mixes them.
MASTERS = (17, 18, 12, 9, 16)


def points_by_component(version: MicroCredentialVersion, marks: dict[int, list[int]]) -> list[int]:
    """Points per component (in rubric order) of the details checked."""
    return [
        sum(c.points for c in component.criteria.all() if c.pk in marks[component.pk])
        for component in component_ids(version)
    ]


def marks_from_points(
    version: MicroCredentialVersion, points: Sequence[int]
) -> dict[int, list[int]]:
    """The details to check for these points per component (in rubric order)."""
    return {
        component.pk: [c.pk for c in component.criteria.order_by("order")][:n]
        for component, n in zip(component_ids(version), points, strict=True)
    }


@pytest.fixture
def lead(make_user, org_tree):
    return make_user(Role.SCORING_LEAD, org_tree["assess"])


@pytest.fixture
def make_set(version, make_submission, lead) -> Callable[..., CalibrationSet]:
    """make_set(masters): a calibration set with one anchor per master total, each a real
    submission with master points per component."""
    rubric = Rubric.objects.get(version=version)

    def make(masters: Sequence[int] = MASTERS) -> CalibrationSet:
        calibration_set = CalibrationSet.objects.create(
            version=version, title="Coaching anchors", created_by=lead
        )
        for total in masters:
            band = services.band_for(rubric, total)
            anchor = CalibrationAnchor.objects.create(
                calibration_set=calibration_set,
                submission=make_submission(),
                source=CalibrationAnchor.Source.WRITTEN,
                master_total=total,
                master_band=band,
                master_passed=band.passing,
                created_by=lead,
            )
            AnchorComponentScore.objects.bulk_create(
                AnchorComponentScore(anchor=anchor, rubric_component=component, points=points)
                for component, points in zip(
                    component_ids(version),
                    points_by_component(version, marks_for(version, total)),
                    strict=True,
                )
            )
        return calibration_set

    return make


@pytest.fixture
def trainee(make_assessor, version) -> AssessorProfile:
    """Put forward (trained) for the MC, not yet qualified."""
    profile = make_assessor(qualified=False)
    profile.qualified_micro_credentials.add(version.micro_credential)
    return profile


def score_round(
    calibration_round: CalibrationRound,
    version: MicroCredentialVersion,
    marks: Callable[[CalibrationAnchor], dict[int, list[int]]],
) -> None:
    """The assessor scores every anchor of the round on the ordinary scoring path."""
    for assignment in calibration_round.assignments.select_related("anchor", "assessor__user"):
        services.start_scoring(assignment, assessor=assignment.assessor.user)
        services.submit_score(
            assignment,
            assessor=assignment.assessor.user,
            component_points=marks(assignment.anchor),
            feedback=feedback_for_all(version),
            overall_feedback="Calibration read.",
            minutes_spent=30,
        )


# ---------------------------------------------------------------------------- starting
def test_a_set_below_the_minimum_refuses_to_start_and_creates_nothing(make_set, trainee, lead):
    small = make_set(MASTERS[:4])

    with pytest.raises(ValidationError) as caught:
        calibration.start_round(trainee, small, actor=lead)

    assert caught.value.messages == [
        "This calibration set has 4 anchor submissions; it needs at least 5 before anyone "
        "can calibrate on it."
    ]
    assert not CalibrationRound.objects.exists()
    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.filter(action="calibration.started").exists()


def test_the_minimum_follows_the_policy(make_set, trainee, lead, version):
    ScoringPolicy.objects.create(
        micro_credential=version.micro_credential, calibration_min_anchors=3
    )
    calibration_round = calibration.start_round(trainee, make_set(MASTERS[:3]), actor=lead)
    assert calibration_round.assignments.count() == 3


def test_a_round_gives_one_calibration_assignment_per_anchor(make_set, trainee, lead):
    calibration_set = make_set()

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


def test_a_second_open_round_on_the_same_set_is_refused(make_set, trainee, lead):
    calibration_set = make_set()
    calibration.start_round(trainee, calibration_set, actor=lead)
    with pytest.raises(ValidationError, match="already has a calibration round open"):
        calibration.start_round(trainee, calibration_set, actor=lead)
    assert CalibrationRound.objects.count() == 1
    assert Assignment.objects.count() == len(MASTERS)


def test_a_retired_set_is_refused(make_set, trainee, lead):
    calibration_set = make_set()
    calibration_set.active = False
    calibration_set.save()
    with pytest.raises(ValidationError, match="retired"):
        calibration.start_round(trainee, calibration_set, actor=lead)
    assert not CalibrationRound.objects.exists()


# ---------------------------------------------------------------------------- judging
@pytest.mark.parametrize("off_by", [0, -1, 1])
def test_scores_close_to_the_masters_pass_and_qualify(off_by, make_set, trainee, lead, version):
    # Within a point of the master on every anchor (never across the pass line here).
    calibration_round = calibration.start_round(trainee, make_set((18, 17, 12, 10, 9)), actor=lead)

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
def test_outcome_agreement_below_the_policy_fails(far, passed, make_set, trainee, lead, version):
    calibration_round = calibration.start_round(trainee, make_set((17, 17, 17, 17, 17)), actor=lead)
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


def test_same_outcomes_with_components_far_off_fail(make_set, trainee, lead, version):
    calibration_round = calibration.start_round(trainee, make_set((17,) * 5), actor=lead)
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


def test_the_round_is_judged_only_once_every_anchor_is_scored(make_set, trainee, lead, version):
    calibration_round = calibration.start_round(trainee, make_set(), actor=lead)
    first = calibration_round.assignments.select_related("anchor").first()
    services.submit_score(
        first,
        assessor=trainee.user,
        component_points=marks_for(version, first.anchor.master_total),
        feedback=feedback_for_all(version),
        overall_feedback="Calibration read.",
        minutes_spent=30,
    )
    calibration_round.refresh_from_db()
    assert calibration_round.finished_at is None and calibration_round.passed is None
    assert not Qualification.objects.filter(assessor=trainee).exists()


# ---------------------------------------------------------------------------- gating live work
def test_only_a_qualification_opens_live_work(make_set, trainee, lead, version, make_submission):
    live = make_submission()
    assert services.assign(live) is None
    assert services.unassigned_reason(live) == (
        "No trained assessor holds a current calibration for this micro-credential."
    )
    assert services.plan_backlog().assigned == []

    failed = calibration.start_round(trainee, make_set(), actor=lead)
    score_round(failed, version, lambda anchor: marks_for(version, 20 - anchor.master_total))
    assert services.assign(live) is None

    passed = calibration.start_round(trainee, failed.calibration_set, actor=lead)
    score_round(passed, version, lambda anchor: marks_for(version, anchor.master_total))
    assignment = services.assign(live)
    assert assignment is not None and assignment.assessor == trainee


def test_calibration_reads_never_decide_their_anchor_submissions(make_set, trainee, lead, version):
    calibration_set = make_set()
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
    services.submit_score(
        assignment,
        assessor=profile.user,
        component_points=marks_for(version, 17),
        feedback=feedback_for_all(version),
        overall_feedback="Well evidenced.",
        minutes_spent=30,
    )

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
    services.submit_score(
        assignment,
        assessor=profile.user,
        component_points=marks_for(version, 17),
        feedback=feedback_for_all(version),
        overall_feedback="Well evidenced.",
        minutes_spent=30,
    )
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
