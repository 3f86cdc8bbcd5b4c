"""Issue 9 in the browser: an assessor qualifies through calibration, then scores live work.

A scoring lead has built a calibration set from submissions their earners agreed to share (made
here through the services: only the assessor's own steps go through the browser). The assessor,
trained for the micro-credential but not yet qualified, starts a round from "My calibration",
scores every anchor on the ordinary scoring page, reads "Passed" beside the thresholds, and then
gets a live submission in the queue and scores it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment import anchors, selectors, services
from microcred.assessment.models import Assignment, CalibrationRound, Qualification
from tests.assessment.helpers import (
    component_ids,
    marks_for,
    marks_from_points,
    points_for,
    score_at,
)

from .helpers import Account, expect_page, score_in_browser, sign_in_as

PASSWORD = "pw-for-tests-1"
# Master points per component (5 + 5 + 5 + 5 = 20 at most; Yes from 16).
MASTERS = ((4, 4, 4, 4), (5, 5, 5, 5), (3, 3, 3, 3), (2, 3, 2, 2), (5, 4, 4, 4))


@pytest.fixture
def calibration_set(version, lead, make_assessor, make_submission):
    """Five decided submissions shared by their earners, made anchors by a scoring lead; the
    assessor who decided them then pauses, so live work can only go to the newcomer."""
    scorer = make_assessor(weekly_capacity=20)
    calibration_set = anchors.create_set(actor=lead, title="Coaching anchors", version=version)
    for points in MASTERS:
        submission = make_submission()
        # Outside a test transaction the submission was assigned when it committed.
        services.assign(submission)
        score_at(
            submission.assignments.get(status=Assignment.Status.ASSIGNED),
            17,
            overall_feedback="Decided.",
            minutes_spent=20,
        )
        submission.refresh_from_db()
        anchors.give_consent(submission, user=submission.attempt.earner)
        anchors.add_anchor(
            calibration_set,
            actor=lead,
            submission=submission,
            points=points_for(version, points),
            rationale="Each point is visible in the video.",
        )
    services.set_paused(scorer, paused=True, actor=lead)
    return calibration_set


def test_an_assessor_qualifies_through_calibration_then_scores_live_work(
    page: Page, version, calibration_set, trainee, make_submission
):
    feedback = {c.title: f"About {c.title.lower()}." for c in component_ids(version)}

    sign_in_as(page, Account(trainee.user.email, PASSWORD))
    page.goto("/assess/me/calibration/")
    expect_page(page, "My calibration")
    page.get_by_label("Calibration set").select_option(label=f"Coaching anchors ({version.title})")
    page.get_by_role("button", name="Start calibrating").click()
    expect_page(page, "My scoring queue")
    expect(page.get_by_role("cell", name="Calibration", exact=True)).to_have_count(len(MASTERS))

    calibration_round = CalibrationRound.objects.get(assessor=trainee)
    masters = {
        a.pk: [m.points for m in a.master_components.order_by("rubric_component__order")]
        for a in calibration_set.anchors.all()
    }
    for assignment in calibration_round.assignments.select_related("submission"):
        code = selectors.submission_code(assignment.submission)
        page.get_by_role("link", name=f"Score {code}").click()
        expect_page(page, f"Score {code}")
        score_in_browser(
            page, marks_from_points(version, masters[assignment.anchor_id]), feedback, "Fine."
        )
        expect_page(page, "My scoring queue")

    page.goto("/assess/me/calibration/")
    page.get_by_role("link", name="Coaching anchors").click()
    expect(page.get_by_text("Passed", exact=True)).to_be_visible()
    expect(page.get_by_text("100% of submissions; at least 80% needed")).to_be_visible()
    assert Qualification.objects.get(assessor=trainee).source == "calibration"

    live = make_submission()
    code = selectors.submission_code(live)
    page.goto("/assess/")
    page.get_by_role("link", name=f"Score {code}").click()
    score_in_browser(page, marks_for(version, 17), feedback, "Clear, specific evidence.")
    live.refresh_from_db()
    assert live.status == "decided"
