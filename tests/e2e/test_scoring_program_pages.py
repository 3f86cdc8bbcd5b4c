"""A scoring lead runs the scoring program from the menu (issue 9): policies, calibration
sets, reliability, pay and the unassigned reads, each page audited by axe; a policy change is
made with the keyboard-reachable form and its bad input explained."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment.models import ScoringPolicy

from .helpers import Account, expect_message, expect_page, follow_nav, sign_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_a_scoring_lead_walks_the_scoring_program(page: Page, lead, version, make_assessor):
    make_assessor()
    sign_in_as(page, Account(lead.email, PASSWORD))

    follow_nav(page, "Scoring policies")
    expect_page(page, "Scoring policies")
    page.get_by_role("link", name=f"Defaults: set its own for {version.title}").click()
    expect_page(page, f"Scoring policy: {version.title}")
    page.get_by_label("Second reads: share of submissions drawn at random (%)").fill("150")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    assert not ScoringPolicy.objects.exists()
    page.get_by_label("Second reads: share of submissions drawn at random (%)").fill("20")
    page.get_by_role("button", name="Save the policy").click()
    expect_message(page, "Saved. The new rules apply to what happens from now on.")
    assert ScoringPolicy.objects.get().second_read_percent == 20

    follow_nav(page, "Calibration sets")
    expect_page(page, "Calibration sets")
    follow_nav(page, "Scoring reliability")
    expect_page(page, "Scoring reliability")
    follow_nav(page, "Assessor pay")
    expect_page(page, re.compile(r"^Assessor pay: \w+ \d{4}$"))
    page.goto("/assess/unassigned/")
    page.get_by_role("button", name="Plan the whole backlog now").click()
    expect_message(page, "Assigned 0 reads. 0 still waiting.")
