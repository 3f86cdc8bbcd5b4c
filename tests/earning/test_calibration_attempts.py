"""Anchors written for calibration (issue 9): a scoring lead writes a portfolio on the ordinary
attempt page, and its submission is calibration material. Nothing scores it live: no read is
planned, no second read drawn, nobody is told, it cannot be withdrawn, and the earner's lists
and the assessors' backlog never show it as waiting for an assessor."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from microcred.assessment import planning, selectors, services
from microcred.assessment.models import Assignment, SecondRead
from microcred.earning import selectors as earning_selectors
from microcred.earning import services as earning
from microcred.earning.models import Attempt, Submission
from microcred.notifications.models import Notification
from microcred.orgs.models import AuditEvent
from tests.assessment import conftest as assessment
from tests.assessment.helpers import fill_portfolio, set_policy, signed_in

pytestmark = pytest.mark.django_db

# The assessment tests' published coaching MC, people and real submissions, as they are.
version = assessment.version
lead = assessment.lead
make_assessor = assessment.make_assessor
make_earner = assessment.make_earner
make_submission = assessment.make_submission

CALIBRATION = Attempt.Purpose.CALIBRATION


@pytest.fixture
def written(lead, version):
    """written(): an anchor the lead wrote and submitted, committed as a browser would."""

    def make() -> Submission:
        attempt, _ = earning.start_attempt(version, user=lead, purpose=CALIBRATION)
        fill_portfolio(attempt, lead)
        return earning.submit(attempt, user=lead)

    return make


@pytest.fixture
def every_read_doubled(version):
    """A policy that draws a second read for every live submission, so one drawn for written
    material would show."""
    return set_policy(version, second_read_percent=100, second_read_first_year=True)


# ---------------------------------------------------------------------------- starting
def test_only_someone_who_runs_calibration_starts_one(lead, version, make_earner, make_assessor):
    for outsider in (make_earner(), make_assessor().user):
        with pytest.raises(PermissionDenied):
            earning.start_attempt(version, user=outsider, purpose=CALIBRATION)
    assert not Attempt.objects.exists()
    assert not AuditEvent.objects.filter(action="earning.attempt.started").exists()

    attempt, created = earning.start_attempt(version, user=lead, purpose=CALIBRATION)

    assert created
    assert (attempt.purpose, attempt.status, attempt.earner, attempt.school) == (
        CALIBRATION,
        Attempt.Status.IN_PROGRESS,
        lead,
        None,
    )
    assert attempt.get_purpose_display() == "Written as a calibration anchor"
    assert not hasattr(attempt, "preapproval")
    event = AuditEvent.objects.get(action="earning.attempt.started")
    assert event.data == {"purpose": "calibration"}
    # A second click returns to the anchor being written.
    assert earning.start_attempt(version, user=lead, purpose=CALIBRATION) == (attempt, False)


def test_a_new_anchor_can_be_written_once_the_last_is_submitted(lead, written, version):
    first = written()
    again, created = earning.start_attempt(version, user=lead, purpose=CALIBRATION)
    assert created and again != first.attempt


def test_an_anchor_has_no_team(lead, version):
    attempt, _ = earning.start_attempt(version, user=lead, purpose=CALIBRATION)
    with pytest.raises(ValidationError, match="has no team"):
        earning.create_team(attempt, user=lead, name="Leads")
    attempt.refresh_from_db()
    assert attempt.team is None


def test_it_is_not_the_leads_attempt_to_earn_the_mc(lead, version, written):
    anchor = written()
    assert earning_selectors.open_attempt(lead, version) is None
    assert earning_selectors.dashboard_items(lead) == []
    own, created = earning.start_attempt(version, user=lead)
    assert created and own.purpose == Attempt.Purpose.EARNING and own != anchor.attempt


# ---------------------------------------------------------------------------- submitting
def test_submitting_scores_nothing_live(
    lead,
    written,
    make_assessor,
    make_submission,
    every_read_doubled,
    django_capture_on_commit_callbacks,
):
    make_assessor(weekly_capacity=10)
    with django_capture_on_commit_callbacks(execute=True):
        anchor = written()
        live = make_submission()  # the control: the same path assigns it and draws it

    anchor.refresh_from_db()
    assert anchor.status == Submission.Status.CALIBRATION
    assert anchor.get_status_display() == "Calibration material: never scored live"
    assert anchor.attempt.status == Attempt.Status.SUBMITTED
    assert not Assignment.objects.filter(submission=anchor).exists()
    assert not SecondRead.objects.filter(submission=anchor).exists()
    assert not Notification.objects.filter(user=lead).exists()
    assert Assignment.objects.filter(submission=live).exists()
    assert SecondRead.objects.filter(submission=live).exists()


def test_the_backlog_never_holds_it(written, make_submission, make_assessor):
    anchor = written()
    live = make_submission()

    backlog = planning.open_reads()
    assert {r.submission.pk for r in backlog.reads} == {live.pk}
    assert planning.open_reads([anchor]).reads == []
    assert list(selectors.unassigned_submissions()) == [live]

    make_assessor(weekly_capacity=10)
    services.plan_backlog()
    assert not Assignment.objects.filter(submission=anchor).exists()
    assert Assignment.objects.filter(submission=live).exists()


def test_withdrawing_is_refused_and_changes_nothing(lead, written):
    anchor = written()
    with pytest.raises(ValidationError, match="cannot be withdrawn: it is never scored live"):
        earning.withdraw(anchor, user=lead)
    anchor.refresh_from_db()
    assert (anchor.status, anchor.withdrawn_at) == (Submission.Status.CALIBRATION, None)
    assert anchor.attempt.status == Attempt.Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="earning.submission.withdrawn").exists()


def test_it_is_never_decided(written):
    anchor = written()
    with pytest.raises(ValidationError, match="never decided"):
        earning.apply_decision(anchor, Attempt.Status.EARNED)
    anchor.refresh_from_db()
    assert anchor.status == Submission.Status.CALIBRATION


# ---------------------------------------------------------------------------- the pages
def test_the_attempt_page_says_what_it_is_and_leads_back(client, lead, version):
    attempt, _ = earning.start_attempt(version, user=lead, purpose=CALIBRATION)
    fill_portfolio(attempt, lead)
    c = signed_in(client, lead)
    url = reverse("earning:attempt", args=[attempt.uuid])
    sets = reverse("assessment:calibration_sets")

    before = c.get(url).content.decode()
    assert "Written as a calibration anchor" in before
    assert "Anchor being written" in before and "Submit the anchor" in before
    assert f'href="{sets}"' in before
    assert "Create the team" not in before

    response = c.post(reverse("earning:submit", args=[attempt.uuid]), follow=True)
    after = response.content.decode()
    assert "Anchor submitted. It is never scored live" in after
    assert "Anchor submitted: never scored live" in after
    assert "Calibration material: never scored live" in after
    assert "waiting for an assessor" not in after
    assert "Withdraw" not in after
    assert "Go to the calibration sets" in after

    number = Submission.objects.get(attempt=attempt).number
    refused = c.post(reverse("earning:withdraw", args=[attempt.uuid, number]), follow=True)
    assert "cannot be withdrawn: it is never scored live" in refused.content.decode()
    assert Submission.objects.get(attempt=attempt).status == Submission.Status.CALIBRATION


def test_the_leads_dashboard_does_not_list_it_as_waiting(client, lead, written):
    written()
    html = signed_in(client, lead).get(reverse("web:dashboard")).content.decode()
    assert "waiting for an assessor" not in html
    assert "an assessor will score it" not in html
