"""Scoring: points, bands, decisions, awards exactly once, immutability, earner feedback."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from microcred.assessment import selectors, services
from microcred.assessment.models import (
    Assignment,
    Award,
    ComponentScore,
    Decision,
    FrozenScoreError,
    Score,
)
from microcred.earning import services as earning
from microcred.earning.models import Attempt, Submission
from microcred.notifications.models import Kind, Notification
from tests.assessment.helpers import component_ids, marks_for, score_at

pytestmark = pytest.mark.django_db


def _nothing_written(assignment):
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED
    assert not Score.objects.exists()
    assert not ComponentScore.objects.exists()
    assert not Decision.objects.exists()
    assert not Award.objects.exists()


@pytest.mark.parametrize(
    ("total", "band", "passed", "attempt_status"),
    [
        (20, "Yes", True, Attempt.Status.EARNED),
        (16, "Yes", True, Attempt.Status.EARNED),
        (15, "Almost", False, Attempt.Status.NOT_YET),
        (13, "Almost", False, Attempt.Status.NOT_YET),
        (12, "Not Yet", False, Attempt.Status.NOT_YET),
        (5, "Not Yet", False, Attempt.Status.NOT_YET),  # below the lowest band's 8
        (0, "Not Yet", False, Attempt.Status.NOT_YET),
    ],
)
def test_points_add_up_and_pick_the_band(assigned, version, total, band, passed, attempt_status):
    score = score_at(assigned, total)

    assert (score.total_points, score.band.label, score.passed) == (total, band, passed)
    assert sorted(c.points for c in score.components.all()) == sorted(
        min(5, max(0, total - 5 * i)) for i in range(4)
    )
    decision = Decision.objects.get(submission=assigned.submission)
    assert decision.outcome == ("earned" if passed else "not_yet")
    submission = Submission.objects.get(pk=assigned.submission_id)
    assert submission.status == Submission.Status.DECIDED
    assert submission.attempt.status == attempt_status
    assert Award.objects.filter(attempt=submission.attempt).count() == (1 if passed else 0)
    assigned.refresh_from_db()
    assert assigned.status == Assignment.Status.COMPLETED


def test_earner_is_told_the_outcome(assigned, version):
    score_at(assigned, 17)
    earner = assigned.submission.attempt.earner
    notice = Notification.objects.get(user=earner, kind=Kind.EARNED)
    assert assigned.assessor.user.email not in notice.title + notice.body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"feedback": {}}, "feedback_"),
        ({"overall_feedback": "   "}, "overall_feedback"),
        ({"minutes_spent": 0}, "minutes_spent"),
        ({"minutes_spent": "soon"}, "minutes_spent"),
    ],
)
def test_missing_feedback_or_minutes_changes_nothing(assigned, version, change, field):
    with pytest.raises(ValidationError) as caught:
        score_at(assigned, 16, **change)
    assert any(name.startswith(field) for name in caught.value.message_dict)
    _nothing_written(assigned)


def test_details_of_another_component_are_refused(assigned, version):
    first, second, *_ = component_ids(version)
    marks = marks_for(version, 16)
    marks[first.pk] = [second.criteria.first().pk]
    with pytest.raises(ValidationError) as caught:
        score_at(assigned, 16, component_points=marks)
    assert f"component_{first.pk}" in caught.value.message_dict
    _nothing_written(assigned)


def test_points_above_a_component_maximum_are_refused(assigned, version):
    # Vetting keeps details adding up to the maximum; the scoring check must hold anyway
    # (here a detail's points are changed behind the catalog's back).
    first = component_ids(version)[0]
    first.criteria.filter(pk=first.criteria.first().pk).update(points=3)
    marks = marks_for(version, 16)
    with pytest.raises(ValidationError, match="more than its maximum"):
        score_at(assigned, 16, component_points=marks)
    _nothing_written(assigned)


def test_a_detail_checked_twice_is_refused(assigned, version):
    first = component_ids(version)[0]
    marks = marks_for(version, 16)
    marks[first.pk] = [marks[first.pk][0]] * 5
    with pytest.raises(ValidationError):
        score_at(assigned, 16, component_points=marks)
    _nothing_written(assigned)


def test_a_score_posted_twice_is_refused(assigned, version):
    score_at(assigned, 16)
    with pytest.raises(ValidationError, match="closed"):
        score_at(assigned, 8)
    assert Score.objects.count() == 1
    assert Score.objects.get().total_points == 16
    assert Decision.objects.get().outcome == "earned"
    assert Award.objects.count() == 1


def test_someone_not_assigned_cannotscore_at(assigned, make_assessor):
    intruder = make_assessor()
    with pytest.raises(PermissionDenied):
        score_at(assigned, 16, assessor=intruder.user)
    _nothing_written(assigned)


def test_a_team_earns_one_award_each_exactly_once(
    make_assessor, make_submission, make_earner, version
):
    profile = make_assessor()
    team = [make_earner(first_name="Mia"), make_earner(first_name="Noor")]
    submission = make_submission(team=team)
    assignment = services.assign(submission)

    score_at(assignment, 18)
    with pytest.raises(ValidationError):
        score_at(assignment, 18)  # the retry of a double click
    decision = Decision.objects.get(submission=submission)
    services.decide(submission, Score.objects.get())  # a repair run after a crash
    services.grant_awards(decision)

    earners = set(Award.objects.values_list("earner_id", flat=True))
    assert earners == {submission.attempt.earner_id, *(u.pk for u in team)}
    assert Award.objects.count() == 3
    assert assignment.assessor == profile


def test_a_crash_after_the_decision_leaves_nothing_and_a_retry_awards_once(
    make_assessor, make_submission, make_earner, version
):
    make_assessor()
    team = [make_earner(first_name="Mia"), make_earner(first_name="Noor")]
    submission = make_submission(team=team)
    assignment = services.assign(submission)

    with (
        mock.patch(
            "microcred.earning.services.apply_decision", side_effect=RuntimeError("worker died")
        ),
        pytest.raises(RuntimeError),
    ):
        score_at(assignment, 18)
    _nothing_written(assignment)

    score_at(assignment, 18)
    assert Award.objects.filter(attempt=submission.attempt).count() == 3
    assert Decision.objects.count() == 1


def test_a_submitted_score_never_changes(assigned, version):
    score = score_at(assigned, 16)
    score.total_points = 20
    with pytest.raises(FrozenScoreError):
        score.save()
    with pytest.raises(FrozenScoreError):
        score.delete()
    part = score.components.order_by("rubric_component__order").first()
    assert part.points == 5
    part.points = 0
    with pytest.raises(FrozenScoreError):
        part.save()
    assert Score.objects.get(pk=score.pk).total_points == 16
    assert ComponentScore.objects.get(pk=part.pk).points == 5


def test_feedback_for_the_earner_names_no_assessor(assigned, version):
    submission = assigned.submission
    assert selectors.feedback_for(submission) is None
    score_at(assigned, 14)

    view = selectors.feedback_for(submission)

    assert (view.band, view.total_points, view.max_points, view.earned) == ("Almost", 14, 20, False)
    assert [c.points for c in view.components] == [5, 5, 4, 0]
    assert all(c.feedback.startswith("Clear evidence") for c in view.components)
    assert view.overall_feedback == "Specific and well evidenced."
    assessor = assigned.assessor.user
    assert assessor.email not in repr(view) and "Sessor" not in repr(view)


def test_a_resubmission_gets_a_new_blind_assignment(assigned, version, make_assessor):
    score_at(assigned, 10)
    other = make_assessor()
    attempt = assigned.submission.attempt
    resubmission = earning.submit(attempt, user=attempt.earner)
    second = services.assign(resubmission)

    assert second.assessor == other
    assert selectors.submission_code(resubmission) != selectors.submission_code(assigned.submission)
    score_at(second, 19)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EARNED
    assert Award.objects.filter(attempt=attempt).count() == 1


def test_the_earner_reads_the_feedback_on_their_attempt_page(client, assigned, version):
    score_at(assigned, 10)
    attempt = assigned.submission.attempt
    client.force_login(attempt.earner)
    html = client.get(reverse("earning:attempt", args=[attempt.uuid])).content.decode()
    assert "Not Yet" in html and "10 of 20 points" in html
    assert "Clear evidence for" in html and "Specific and well evidenced." in html
    assessor = assigned.assessor.user
    assert assessor.email not in html and "Sessor" not in html
