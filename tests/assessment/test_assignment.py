"""Assignment: who gets a submission, declining, expiry, reminders, withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from microcred.assessment import calibration, selectors, services
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    DeclaredConflict,
    Qualification,
)
from microcred.earning import services as earning
from microcred.earning.models import Submission
from microcred.notifications.models import Kind, Notification
from tests.assessment.helpers import score_at
from tests.catalog.factories import catalog_people, publish_stack

pytestmark = pytest.mark.django_db
Status = Assignment.Status


def _give(profile: AssessorProfile, submission: Submission, *, days_ago: int = 0) -> Assignment:
    """An open assignment of another submission, to load an assessor."""
    assignment = Assignment.objects.create(
        submission=submission, assessor=profile, due_at=timezone.now() + timedelta(days=14)
    )
    if days_ago:
        Assignment.objects.filter(pk=assignment.pk).update(
            assigned_at=timezone.now() - timedelta(days=days_ago)
        )
    return assignment


def test_assigns_the_most_spare_capacity_and_notifies(make_assessor, make_submission, settings):
    busy = make_assessor(weekly_capacity=5)
    free = make_assessor(weekly_capacity=5)
    _give(busy, make_submission())
    _give(busy, make_submission())
    submission = make_submission()

    assignment = services.assign(submission)

    assert assignment is not None and assignment.assessor == free
    assert assignment.kind == Assignment.Kind.PRIMARY
    expected = timezone.now() + timedelta(days=14)
    assert abs((assignment.due_at - expected).total_seconds()) < 60
    notice = Notification.objects.get(user=free.user, kind=Kind.ASSIGNED)
    assert selectors.submission_code(submission) in notice.title
    assert "Inez" not in notice.title + notice.body


def test_capacity_counts_only_the_last_seven_days_and_ties_go_to_fewest_open(
    make_assessor, make_submission
):
    a = make_assessor(weekly_capacity=3)
    b = make_assessor(weekly_capacity=3)
    # Both have full spare capacity this week; `a` still holds two older open assignments.
    _give(a, make_submission(), days_ago=10)
    _give(a, make_submission(), days_ago=9)
    _give(b, make_submission(), days_ago=10)
    assert services.assign(make_submission()).assessor == b


def test_due_date_follows_the_setting(make_assessor, make_submission, settings):
    settings.MICROCRED_SCORING_DAYS = 3
    make_assessor()
    assignment = services.assign(make_submission())
    assert (assignment.due_at - timezone.now()).days in (2, 3)


def test_skips_paused_uncalibrated_unqualified_and_conflicted(
    make_assessor, make_submission, make_earner, org_tree
):
    earner = make_earner()
    make_assessor(active=False)
    due = make_assessor()
    due.qualifications.update(status=Qualification.Status.RECALIBRATE)
    lapsed = make_assessor()
    lapsed.qualifications.update(recalibrate_by=timezone.now() - timedelta(days=1))
    make_assessor(qualified=False)
    make_assessor(home=org_tree["lea1"])
    declared = make_assessor()
    DeclaredConflict.objects.create(assessor=declared, user=earner, reason="Neighbour")
    eligible = make_assessor(weekly_capacity=1)

    assert services.assign(make_submission(earner)).assessor == eligible


def test_a_stack_qualifies_for_its_micro_credentials(
    make_assessor, make_submission, version, org_tree, make_user
):
    people = catalog_people(org_tree, make_user)
    other = people.publish(title="Coaching conversations").micro_credential
    stack = publish_stack(
        people.provider, people.author, [(other, True), (version.micro_credential, True)]
    )
    profile = make_assessor(qualified=False)
    profile.qualified_stacks.add(stack)
    calibration.qualify(
        profile, version.micro_credential, actor=profile.user, source="attested", note="Pilot."
    )
    assert services.assign(make_submission()).assessor == profile


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("none", "No assessor is trained for this micro-credential."),
        ("paused", "Every assessor trained for it is paused."),
        (
            "uncalibrated",
            "No trained assessor holds a current calibration for this micro-credential.",
        ),
        ("full", "Every qualified assessor is at their weekly capacity."),
        ("conflict", "Every qualified assessor with time has a conflict with this earner."),
    ],
)
def test_nobody_eligible_leaves_it_waiting_with_the_reason(
    setup, reason, make_assessor, make_submission, org_tree
):
    if setup == "paused":
        make_assessor(active=False)
    elif setup == "uncalibrated":
        make_assessor().qualifications.update(status=Qualification.Status.RECALIBRATE)
    elif setup == "full":
        _give(make_assessor(weekly_capacity=1), make_submission())
    elif setup == "conflict":
        make_assessor(home=org_tree["school1"])
    submission = make_submission()

    assert services.assign(submission) is None

    submission.refresh_from_db()
    assert submission.status == Submission.Status.AWAITING_ASSESSOR
    assert submission in selectors.unassigned_submissions()
    assert services.unassigned_reason(submission) == reason


def test_submitting_assigns_after_commit(
    make_assessor, version, make_earner, django_capture_on_commit_callbacks
):
    from tests.assessment.helpers import fill_portfolio

    profile = make_assessor()
    earner = make_earner()
    attempt, _ = earning.start_attempt(version, user=earner)
    fill_portfolio(attempt, earner)
    with django_capture_on_commit_callbacks(execute=True):
        submission = earning.submit(attempt, user=earner)
    assert Assignment.objects.get(submission=submission).assessor == profile


def test_assigning_twice_keeps_one_open_assignment(make_assessor, make_submission):
    make_assessor()
    make_assessor()
    submission = make_submission()
    assert services.assign(submission) is not None
    assert services.assign(submission) is None
    assert Assignment.objects.filter(submission=submission).count() == 1


# ---------------------------------------------------------------------------- declining
def test_decline_reassigns_to_someone_else(make_assessor, make_submission):
    pair = {make_assessor(), make_assessor()}
    submission = make_submission()
    assignment = services.assign(submission)
    first = assignment.assessor
    (second,) = pair - {first}

    replacement = services.decline(assignment, assessor=first.user, reason="I know this teacher")

    assignment.refresh_from_db()
    assert assignment.status == Status.DECLINED
    assert assignment.decline_reason == "I know this teacher"
    assert replacement.assessor == second


def test_decline_needs_a_reason_and_changes_nothing_without_one(make_assessor, make_submission):
    profile = make_assessor()
    assignment = services.assign(make_submission())
    with pytest.raises(ValidationError):
        services.decline(assignment, assessor=profile.user, reason="  ")
    assignment.refresh_from_db()
    assert assignment.status == Status.ASSIGNED


def test_only_the_assigned_assessor_may_decline(make_assessor, make_submission):
    make_assessor()
    other = make_assessor(qualified=False)
    assignment = services.assign(make_submission())
    with pytest.raises(PermissionDenied):
        services.decline(assignment, assessor=other.user, reason="Not mine")
    assignment.refresh_from_db()
    assert assignment.status == Status.ASSIGNED


def test_declined_with_nobody_else_waits_in_the_unassigned_list(make_assessor, make_submission):
    only = make_assessor()
    submission = make_submission()
    assignment = services.assign(submission)
    assert services.decline(assignment, assessor=only.user, reason="Too busy") is None
    assert submission in selectors.unassigned_submissions()
    assert services.unassigned_reason(submission) == (
        "Every qualified assessor has already had this submission."
    )


# ---------------------------------------------------------------------------- the sweep
def test_reminder_goes_out_once_two_days_before(make_assessor, make_submission):
    profile = make_assessor()
    assignment = services.assign(make_submission())
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() + timedelta(days=3))
    assert services.sweep_assignments().reminded == 0

    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() + timedelta(days=1))
    assert services.sweep_assignments().reminded == 1
    assert services.sweep_assignments().reminded == 0
    call_command("sweep_assignments")

    assert Notification.objects.filter(user=profile.user, kind=Kind.DUE_SOON).count() == 1
    assignment.refresh_from_db()
    assert assignment.reminded_at is not None


def test_missed_assignment_expires_and_is_reassigned(make_assessor, make_submission):
    pair = {make_assessor(), make_assessor()}
    submission = make_submission()
    assignment = services.assign(submission)
    (other,) = pair - {assignment.assessor}
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - timedelta(hours=1))

    result = services.sweep_assignments()

    assert (result.expired, result.reassigned) == (1, 1)
    assignment.refresh_from_db()
    assert assignment.status == Status.EXPIRED
    assert Assignment.objects.get(submission=submission, status=Status.ASSIGNED).assessor == other


def test_sweep_assigns_waiting_submissions_once_someone_is_free(make_assessor, make_submission):
    submission = make_submission()
    assert services.assign(submission) is None
    profile = make_assessor()
    assert services.sweep_assignments().assigned_waiting == 1
    assert Assignment.objects.get(submission=submission).assessor == profile


def test_the_sweep_task_runs(make_assessor, make_submission):
    from microcred.assessment.tasks import sweep_assignments

    make_submission()
    make_assessor()
    result = sweep_assignments.enqueue()
    assert result.return_value["assigned_waiting"] == 1


# ---------------------------------------------------------------------------- withdrawal
def test_withdrawal_cancels_the_open_assignment(make_assessor, make_submission):
    make_assessor()
    submission = make_submission()
    assignment = services.assign(submission)
    earning.withdraw(submission, user=submission.attempt.earner)
    assignment.refresh_from_db()
    assert assignment.status == Status.CANCELLED


def test_withdrawal_is_refused_once_scored(assigned):
    score_at(assigned, 16, overall_feedback="Well done.", minutes_spent=40)
    with pytest.raises(ValidationError):
        services.on_withdrawal(assigned.submission)
    assigned.refresh_from_db()
    assert assigned.status == Status.COMPLETED


def test_resubmission_prefers_another_assessor(make_assessor, make_submission, version):
    pair = {make_assessor(), make_assessor()}
    submission = make_submission()
    assignment = services.assign(submission)
    first = assignment.assessor
    (second,) = pair - {first}
    score_at(assignment, 10, overall_feedback="Add more examples.", minutes_spent=30)
    # `second` is busier than `first` now, yet a fresh pair of eyes comes first.
    _give(second, make_submission())
    resubmission = earning.submit(submission.attempt, user=submission.attempt.earner)
    assert resubmission.number == 2
    assert services.assign(resubmission).assessor == second
