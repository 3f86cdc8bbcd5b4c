"""Double scoring and moderation: which submissions get a second read, how two reads settle, a
scoring lead's third read, blindness between readers, retries, the audit trail, and pay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from microcred.assessment import selectors, services
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    Decision,
    Score,
    ScoringPolicy,
    SecondRead,
)
from microcred.earning.models import Attempt, Submission
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.helpers import open_read, score_read, set_policy

pytestmark = pytest.mark.django_db
Kind = Assignment.Kind


def audit_actions(target: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=str(target.pk)
        ).values_list("action", flat=True)
    )


@pytest.fixture
def make_lead(make_user, org_tree) -> Callable[[], AssessorProfile]:
    """A scoring lead with an assessor profile, not put forward for the MC's first reads."""

    def make() -> AssessorProfile:
        user = make_user(Role.SCORING_LEAD, org_tree["assess"], first_name="Lee", last_name="Ead")
        return AssessorProfile.objects.create(user=user, home_organization=org_tree["assess"])

    return make


@pytest.fixture
def first_year(version) -> ScoringPolicy:
    return set_policy(version, second_read_first_year=True)


# ---------------------------------------------------------------------------- drawing
def test_first_year_mc_gets_both_reads_at_submit_from_two_assessors(
    first_year, make_assessor, submit
):
    pool = {make_assessor(), make_assessor(), make_assessor()}
    submission = submit()

    assert SecondRead.objects.get(submission=submission).reason == SecondRead.Reason.FIRST_YEAR
    primary, second = open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)
    assert primary.assessor != second.assessor
    assert {primary.assessor, second.assessor} <= pool
    assert audit_actions(SecondRead.objects.get(submission=submission)) == ["second_read.drawn"]


def test_first_year_rule_stops_after_the_first_year(first_year, version, make_assessor, submit):
    type(version).objects.filter(pk=version.pk).update(
        published_at=version.published_at - timedelta(days=366)
    )
    make_assessor()
    make_assessor()
    submission = submit()
    assert not SecondRead.objects.filter(submission=submission).exists()
    assert Assignment.objects.filter(submission=submission).count() == 1


def test_no_decision_after_one_of_two_reads(first_year, version, make_assessor, submit):
    make_assessor()
    make_assessor()
    submission = submit()

    score_read(open_read(submission, Kind.PRIMARY), version, 18)

    assert not Decision.objects.filter(submission=submission).exists()
    assert selectors.feedback_for(submission) is None
    submission.refresh_from_db()
    assert submission.status != Submission.Status.DECIDED
    assert open_read(submission, Kind.SECOND).status == Assignment.Status.ASSIGNED


@pytest.mark.parametrize(("percent", "drawn"), [(100, True), (0, False)])
def test_random_share_follows_the_policy(percent, drawn, version, make_assessor, submit):
    set_policy(version, second_read_percent=percent)
    make_assessor()
    make_assessor()
    submission = submit()

    assert (
        SecondRead.objects.filter(submission=submission, reason=SecondRead.Reason.SAMPLED).exists()
        == drawn
    )
    assert Assignment.objects.filter(submission=submission).count() == (2 if drawn else 1)


@pytest.mark.parametrize(("total", "drawn"), [(14, False), (15, True), (16, True), (17, False)])
def test_first_read_near_the_pass_line_gets_a_second_read(
    total, drawn, version, make_assessor, submit
):
    # The coaching MC passes at 16: with a margin of 1, 15 (just failing) and 16 (just
    # passing) are too close to call on one read.
    set_policy(version, second_read_margin=1)
    make_assessor()
    make_assessor()
    submission = submit()
    primary = open_read(submission, Kind.PRIMARY)

    score_read(primary, version, total)

    assert (
        SecondRead.objects.filter(
            submission=submission, reason=SecondRead.Reason.NEAR_PASS
        ).exists()
        == drawn
    )
    assert Decision.objects.filter(submission=submission).exists() != drawn
    if drawn:
        # The second read goes straight out, to someone other than the first reader.
        assert open_read(submission, Kind.SECOND).assessor != primary.assessor


# ---------------------------------------------------------------------------- settling
@pytest.mark.parametrize("second_first", [False, True])
def test_same_outcome_the_first_read_decides_and_both_are_kept(
    second_first, first_year, version, make_assessor, submit
):
    make_assessor()
    make_assessor()
    submission = submit()
    primary, second = open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)
    order = [(second, 20), (primary, 17)] if second_first else [(primary, 17), (second, 20)]

    scores = {a.kind: score_read(a, version, total) for a, total in order}

    decision = Decision.objects.get(submission=submission)
    assert decision.score == scores[Kind.PRIMARY]
    assert (decision.outcome, decision.total_points) == (Decision.Outcome.EARNED, 17)
    assert Score.objects.filter(assignment__submission=submission).count() == 2
    feedback = selectors.feedback_for(submission)
    assert feedback.total_points == 17
    assert feedback.overall_feedback == f"Overall feedback of read {primary.pk}."
    assert all(f"(read {primary.pk})" in c.feedback for c in feedback.components)
    assert Attempt.objects.get(pk=submission.attempt_id).status == Attempt.Status.EARNED
    assert not Assignment.objects.filter(submission=submission, kind=Kind.THIRD).exists()


@pytest.fixture
def disagreement(first_year, version, make_assessor, make_lead, submit):
    """Two reads that differ (pass 18, fail 9), three non-leads free and one scoring lead."""
    readers = {make_assessor(), make_assessor(), make_assessor()}
    lead = make_lead()
    submission = submit()
    primary, second = open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)
    score_read(primary, version, 18)
    score_read(second, version, 9)
    return submission, readers, lead, primary


def test_different_outcomes_go_to_a_scoring_lead(disagreement):
    submission, readers, lead, _primary = disagreement

    third = open_read(submission, Kind.THIRD)

    assert third.assessor == lead
    assert not Assignment.objects.filter(
        submission=submission, kind=Kind.THIRD, assessor__in=readers
    ).exists()
    assert not Decision.objects.filter(submission=submission).exists()
    assert "second_read.disagreed" in audit_actions(submission)


def test_the_third_read_decides(disagreement, version):
    submission, _readers, _lead, _primary = disagreement
    third = open_read(submission, Kind.THIRD)

    deciding = score_read(third, version, 13)

    decision = Decision.objects.get(submission=submission)
    assert decision.score == deciding
    assert (decision.outcome, decision.total_points) == (Decision.Outcome.NOT_YET, 13)
    assert audit_actions(decision) == ["decision.made"]
    assert Attempt.objects.get(pk=submission.attempt_id).status == Attempt.Status.NOT_YET


def test_after_a_third_read_the_earner_sees_its_feedback(disagreement, version):
    submission, _readers, _lead, _primary = disagreement
    third = open_read(submission, Kind.THIRD)
    score_read(third, version, 13)

    feedback = selectors.feedback_for(submission)

    assert feedback.overall_feedback == f"Overall feedback of read {third.pk}."
    assert all(f"(read {third.pk})" in c.feedback for c in feedback.components)
    assert sum(c.points for c in feedback.components) == feedback.total_points == 13


def test_without_a_scoring_lead_the_third_read_waits_with_the_reason(
    first_year, version, make_assessor, submit
):
    make_assessor()
    make_assessor()
    make_assessor()
    submission = submit()
    score_read(open_read(submission, Kind.PRIMARY), version, 18)
    score_read(open_read(submission, Kind.SECOND), version, 9)

    assert not Assignment.objects.filter(submission=submission, kind=Kind.THIRD).exists()
    assert services.unassigned_reason(submission) == (
        "No scoring lead is available to settle the disagreement."
    )


def test_a_lead_who_read_it_already_does_not_take_the_third_read(
    first_year, version, make_assessor, make_lead, submit
):
    from tests.assessment.helpers import qualify_for

    lead = make_lead()
    qualify_for(lead, version.micro_credential)
    other_lead = make_lead()
    # The lead is the only other qualified reader, so one of the two reads is theirs.
    make_assessor()
    submission = submit()
    reads = [open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)]
    assert lead in {r.assessor for r in reads}
    score_read(reads[0], version, 18)
    score_read(reads[1], version, 9)

    assert open_read(submission, Kind.THIRD).assessor == other_lead


# ---------------------------------------------------------------------------- blindness
def test_readers_never_see_each_others_scores(first_year, version, make_assessor, submit, client):
    make_assessor()
    make_assessor()
    submission = submit()
    primary, second = open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)
    score_read(primary, version, 11, overall_feedback="Primary reader thinks: PRIMARY-REMARK.")
    client.force_login(second.assessor.user)

    before = client.get(reverse("assessment:score", args=[second.pk])).content.decode()
    score_read(second, version, 19, overall_feedback="Second reader thinks: SECOND-REMARK.")
    after = client.get(reverse("assessment:score", args=[second.pk])).content.decode()

    for page in (before, after):
        assert "PRIMARY-REMARK" not in page
        assert f"(read {primary.pk})" not in page
        assert "11 points" not in page and "11 of 20" not in page
    assert "SECOND-REMARK" in after and "19 of 20" in after  # their own score, once sent
    # Nor can the second reader open the first read's page.
    assert client.get(reverse("assessment:score", args=[primary.pk])).status_code == 404


# ---------------------------------------------------------------------------- retries
def test_a_retry_on_a_scored_assignment_changes_nothing(first_year, version, make_assessor, submit):
    make_assessor()
    make_assessor()
    submission = submit()
    primary, second = open_read(submission, Kind.PRIMARY), open_read(submission, Kind.SECOND)
    score_read(primary, version, 17)
    score_read(second, version, 18)
    counts = (Score.objects.count(), Assignment.objects.count(), AuditEvent.objects.count())

    with pytest.raises(ValidationError, match="nothing was changed"):
        score_read(second, version, 4)

    assert (Score.objects.count(), Assignment.objects.count(), AuditEvent.objects.count()) == (
        counts
    )
    assert Score.objects.get(assignment=second).total_points == 18
    decision = Decision.objects.get(submission=submission)
    assert (decision.outcome, decision.total_points) == (Decision.Outcome.EARNED, 17)


def test_audit_trail_of_a_moderated_submission(disagreement, version):
    submission, _readers, _lead, _primary = disagreement
    score_read(open_read(submission, Kind.THIRD), version, 17)

    second_read = SecondRead.objects.get(submission=submission)
    assert audit_actions(second_read) == ["second_read.drawn"]
    disagreed = AuditEvent.objects.get(action="second_read.disagreed", target_id=str(submission.pk))
    assert disagreed.data == {"first": 18, "second": 9}
    decision = Decision.objects.get(submission=submission)
    assert AuditEvent.objects.get(action="decision.made", target_id=str(decision.pk)).data == {
        "outcome": "earned"
    }
    assert AuditEvent.objects.filter(action="score.submitted").count() == 3


# ---------------------------------------------------------------------------- pay
@pytest.mark.parametrize(
    ("rate", "minutes", "amount"),
    [
        ("17.50", 45, "13.13"),  # 13.125 rounds half up
        ("15.00", 1, "0.25"),
        ("20.00", 90, "30.00"),
        ("16.75", 37, "10.33"),  # 10.329...
    ],
)
def test_hourly_pay_is_minutes_times_rate_to_the_cent(
    rate, minutes, amount, version, make_assessor, submit
):
    profile = make_assessor(pay_rate=Decimal(rate))
    submission = submit()

    score = score_read(open_read(submission, Kind.PRIMARY), version, 17, minutes_spent=minutes)

    score.refresh_from_db()
    assert score.assignment.assessor == profile
    assert (score.pay_rate, score.pay_amount) == (Decimal(rate), Decimal(amount))


def test_a_fixed_fee_replaces_the_hourly_rate(version, make_assessor, submit, org_tree):
    set_policy(version, funding_organization=org_tree["state"])
    make_assessor(pay_rate=Decimal("20.00"), fee_per_submission=Decimal("35.00"))
    submission = submit()

    score = score_read(open_read(submission, Kind.PRIMARY), version, 17, minutes_spent=200)

    score.refresh_from_db()
    assert (score.pay_rate, score.pay_amount) == (Decimal("35.00"), Decimal("35.00"))
    assert score.funding_organization == org_tree["state"]


def test_pay_is_frozen_with_the_score(version, make_assessor, submit):
    profile = make_assessor(pay_rate=Decimal("18.00"))
    submission = submit()
    score = score_read(open_read(submission, Kind.PRIMARY), version, 17, minutes_spent=60)

    profile.pay_rate = Decimal("19.00")
    profile.save()

    score.refresh_from_db()
    assert score.pay_amount == Decimal("18.00")
