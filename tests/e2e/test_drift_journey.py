"""Issue 9's drift story in Chromium, axe on every page: an assessor who scores anchors three
points harsher than the masters is flagged and sent to recalibration, fails the round the same
way and is paused; they see it on their own page; a scoring lead finds them on the reliability
page (its charts drawn, their numbers in tables) and resumes them with a reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment import monitoring
from microcred.assessment.models import CalibrationRound, DriftFlag, Qualification
from tests.assessment.helpers import drift_reads, harsher, marks_for, score_round

from .helpers import Account, expect_message, expect_page, sign_in_as, sign_out

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def paused(drift_policy, anchor_set, make_assessor, version):
    """The anchors first (their submissions commit and would otherwise go to the assessors as
    live work), then a steady assessor and a drifting one, flagged and then paused."""
    calibration_set = anchor_set()
    steady, drifting = make_assessor(), make_assessor()
    drifting.user.first_name, drifting.user.last_name = "Drew", "Drift"
    drifting.user.save()
    drift_reads(steady, calibration_set, lambda master: master)
    drift_reads(drifting, calibration_set, harsher(3))
    assert monitoring.sweep_drift().flagged == 1
    recalibration = CalibrationRound.objects.get(assessor=drifting)
    score_round(recalibration, version, lambda anchor: marks_for(version, anchor.master_total - 3))
    assert monitoring.sweep_drift().paused == 1
    return drifting


def test_a_drifting_assessor_is_paused_and_a_lead_resumes_them(
    page: Page,
    paused,
    lead,
    version,
):

    sign_in_as(page, Account(paused.user.email, PASSWORD))
    page.goto("/assess/me/reliability/")
    expect_page(page, "My scoring agreement")
    expect(page.get_by_role("table", name="Drift flags")).to_contain_text("Live work paused")
    expect(page.get_by_role("button", name="Resume live work")).to_have_count(0)
    sign_out(page)

    sign_in_as(page, Account(lead.email, PASSWORD))
    page.goto("/assess/reliability/")
    expect_page(page, "Scoring reliability")
    expect(page.get_by_text("1 assessor is flagged for drift.")).to_be_visible()
    assessors = page.get_by_role("table", name="Assessors on Collaborative Leadership Coaching")
    expect(assessors.get_by_role("row", name="Drew Drift")).to_contain_text("Live work paused")
    expect(assessors.get_by_role("row", name="Drew Drift")).to_contain_text("-3.00 points")
    # Both charts are drawn, each named for screen readers and followed by its table.
    for chart in ("canvas[data-agreement]", "canvas[data-severity]"):
        canvas = page.locator(chart)
        expect(canvas).to_have_attribute("role", "img")
        page.wait_for_function(
            f"window.Chart && !!Chart.getChart(document.querySelector('{chart}'))"
        )
    bars = page.evaluate(
        "Chart.getChart(document.querySelector('canvas[data-severity]')).data.datasets[0].data"
    )
    assert sorted(bars) == [-3.0, 0.0]

    page.get_by_role("link", name="Review the open drift flags").click()
    expect_page(page, "Open drift flags")
    page.get_by_role("link", name="Drew Drift").click()
    expect_page(page, "Reliability of Drew Drift")
    page.get_by_role("button", name="Resume live work").click()  # no reason yet
    expect(page.get_by_label("Why you clear this flag")).to_be_focused()
    page.get_by_label("Why you clear this flag").fill("We went through eight anchors together.")
    page.get_by_role("button", name="Resume live work").click()
    expect_message(page, "Resumed Drew Drift: they can score live work again.")
    expect(page.get_by_role("table", name="Drift flags")).to_contain_text("Cleared")

    flag = DriftFlag.objects.get(assessor=paused)
    assert flag.status == DriftFlag.Status.CLEARED and flag.resolved_by == lead
    assert (
        Qualification.objects.get(assessor=paused, micro_credential=version.micro_credential).status
        == Qualification.Status.QUALIFIED
    )
