"""Anchors slipped unlabelled into live queues at the MC's rate (issue 9: drift checks)."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from microcred.assessment import planning, selectors, services
from microcred.assessment.models import (
    AnchorConsent,
    Assignment,
    CalibrationAnchor,
    CalibrationSet,
    Decision,
    ScoringPolicy,
)
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.helpers import score_at

pytestmark = pytest.mark.django_db


class Always(random.Random):
    """Every draw falls under the rate: the mixing rule, not the dice, is under test."""

    def random(self) -> float:
        return 0.0


@pytest.fixture
def anchor(version, make_assessor, make_submission, make_earner, make_user, org_tree):
    """A decided submission of an earner at Oak Middle, consented and anchored; its scorer
    then leaves the pool."""
    lead = make_user(Role.SCORING_LEAD, org_tree["assess"])
    scorer = make_assessor()
    submission = make_submission(make_earner(org_tree["school2"]))
    score_at(services.assign(submission), 18, overall_feedback="Clear evidence.", minutes_spent=30)
    scorer.active = False
    scorer.save()
    AnchorConsent.objects.create(submission=submission, given_by=submission.attempt.earner)
    calibration_set = CalibrationSet.objects.create(
        version=version, title="Coaching anchors", created_by=lead
    )
    return CalibrationAnchor.objects.create(
        calibration_set=calibration_set,
        submission=submission,
        source=CalibrationAnchor.Source.CONSENTED,
        master_total=18,
        master_band=Decision.objects.get(submission=submission).band,
        master_passed=True,
        created_by=lead,
    )


def _plan(make_submission, count=1):
    submissions = [make_submission() for _ in range(count)]
    result = planning.plan_and_assign(submissions, seed=1)
    pool = planning.load_pool()
    spare = dict(pool.spare)
    return result, pool, spare


def test_an_anchor_joins_live_work_unlabelled_and_audited(anchor, make_assessor, make_submission):
    ScoringPolicy.objects.create(
        micro_credential=anchor.submission.attempt.version.micro_credential
    )
    profile = make_assessor()
    result, pool, spare = _plan(make_submission)

    checks = planning.mix_anchors(result.assigned, pool, spare, Always())

    (check,) = checks
    assert (check.assessor, check.anchor, check.purpose) == (
        profile,
        anchor,
        Assignment.Purpose.DRIFT_CHECK,
    )
    rows = {row.assignment_id: row for row in selectors.assignments_of(profile.user)}
    assert rows[check.pk].kind == rows[result.assigned[0].pk].kind == "First read"
    assert AuditEvent.objects.filter(action="assignment.drift_check").count() == 1


def test_scoring_a_drift_check_decides_nothing(anchor, make_assessor, make_submission, version):
    profile = make_assessor()
    result, pool, spare = _plan(make_submission)
    (check,) = planning.mix_anchors(result.assigned, pool, spare, Always())
    decisions = Decision.objects.count()

    score_at(check, 10, overall_feedback="Clear evidence.", minutes_spent=30)

    assert Decision.objects.count() == decisions
    check.refresh_from_db()
    assert check.status == Assignment.Status.COMPLETED
    assert profile.qualifications.get().status == "qualified"


@pytest.mark.parametrize("case", ["already_had", "conflicted", "no_room", "rate_zero", "withdrawn"])
def test_no_drift_check_when_it_would_not_be_fair(
    case, anchor, make_assessor, make_submission, org_tree
):
    home = org_tree["lea2"] if case == "conflicted" else None
    profile = make_assessor(home=home, weekly_capacity=1 if case == "no_room" else 5)
    if case == "rate_zero":
        ScoringPolicy.objects.create(
            micro_credential=anchor.submission.attempt.version.micro_credential, anchor_percent=0
        )
    if case == "withdrawn":
        AnchorConsent.objects.filter(submission=anchor.submission).update(
            withdrawn_at=timezone.now()
        )
    result, pool, spare = _plan(make_submission)
    assert [a.assessor for a in result.assigned] == [profile]
    if case == "already_had":
        Assignment.objects.create(
            submission=anchor.submission,
            assessor=profile,
            purpose=Assignment.Purpose.DRIFT_CHECK,
            anchor=anchor,
            status=Assignment.Status.COMPLETED,
            due_at=timezone.now(),
        )
    if case == "no_room":
        spare[profile.pk] = 0

    assert planning.mix_anchors(result.assigned, pool, spare, Always()) == []
