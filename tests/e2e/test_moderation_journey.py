"""A disagreement goes to a scoring lead and is resolved (issue 9), in a real browser.

An MC in its first year gets two independent reads of every submission. Here they differ (one
passes it, one does not), so a third read goes to a scoring lead, who sees both reads beside the
evidence, scores it, and so decides; the earner then sees one decision and that read's feedback.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment import selectors
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    Decision,
    ScoringPolicy,
)
from microcred.orgs.models import Role
from tests.assessment.helpers import component_ids, score_at
from tests.e2e.harness import sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_a_scoring_lead_settles_two_reads_that_disagree(
    page: Page, seeded_db, version, make_assessor, make_submission, make_user, org_tree
):
    ScoringPolicy.objects.create(micro_credential=version.micro_credential)  # first year: all
    make_assessor()
    make_assessor()
    lead = make_user(Role.SCORING_LEAD, org_tree["assess"], first_name="Lee", last_name="Lead")
    AssessorProfile.objects.create(user=lead, home_organization=org_tree["assess"])
    # Outside a test transaction, submitting commits, draws the second read and assigns both.
    submission = make_submission()
    first = Assignment.objects.get(submission=submission, kind=Assignment.Kind.PRIMARY)
    second = Assignment.objects.get(submission=submission, kind=Assignment.Kind.SECOND)
    assert first.assessor != second.assessor
    assert lead not in (first.assessor.user, second.assessor.user)
    score_at(first, 18, overall_feedback="A read of 18 points.", minutes_spent=40)
    score_at(second, 11, overall_feedback="A read of 11 points.", minutes_spent=40)
    assert not Decision.objects.filter(submission=submission).exists()
    third = Assignment.objects.get(submission=submission, kind=Assignment.Kind.THIRD)
    assert third.assessor.user == lead

    sign_in(page, lead.email, PASSWORD)
    page.goto("/assess/")
    row = page.get_by_role("row").filter(has_text="Third read")
    row.get_by_role("link", name=f"Score {selectors.submission_code(submission)}").click()
    expect(page.get_by_role("heading", name="The two reads disagreed")).to_be_visible()
    table = page.get_by_role("table", name="Points given by each earlier read")
    expect(table.get_by_role("row", name="Total")).to_contain_text("18")
    expect(table.get_by_role("row", name="Total")).to_contain_text("11")

    for component in component_ids(version):
        fieldset = page.get_by_role("group", name=component.title)
        boxes = fieldset.get_by_role("checkbox")
        for n in range(4):  # 4 x 4 = 16 points: the lowest passing total
            boxes.nth(n).check()
        fieldset.get_by_label(f"Feedback on “{component.title}”").fill("Settled: evident.")
    page.get_by_label("Overall feedback for the earner").fill("The lead's settled read.")
    page.get_by_role("button", name="Send the score").click()
    expect(page.get_by_text("Score sent: 16 points, Yes.")).to_be_visible()
    sign_out(page)

    decision = Decision.objects.get(submission=submission)
    assert (decision.outcome, decision.total_points) == ("earned", 16)
    assert decision.score.assignment == third

    earner = submission.attempt.earner
    sign_in(page, earner.email, PASSWORD)
    page.goto(f"/earn/{submission.attempt.uuid}/")
    expect(page.get_by_text("The lead's settled read.")).to_be_visible()
    expect(page.get_by_text("A read of 18 points.")).to_have_count(0)
    expect(page.get_by_text("A read of 11 points.")).to_have_count(0)
