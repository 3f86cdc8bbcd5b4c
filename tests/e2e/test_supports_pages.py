"""Issue 11's earner and principal pages on a 360 px phone, with axe and the CSP watch running
on every load: the self-assessment, the learning plan and its sign-off, staff progress, and an
attempt after "not yet" with the feedback at the top as stacked cards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from microcred.earning import supports
from microcred.orgs.models import Role
from tests.earning.test_not_yet_feedback import not_yet  # noqa: F401 (fixture)

from .conftest import version  # noqa: F401 (fixture)
from .harness import sign_in
from .helpers import sign_out
from .test_phone_layout import PHONE_360, expect_fits_360

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"


def _open(page: Page, url: str, heading: str | re.Pattern[str]) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect_fits_360(page)


def test_an_earner_and_her_principal_use_the_supports_on_a_phone(
    page: Page,
    version,  # noqa: F811
    make_user,
    org_tree,
) -> None:
    earner = make_user(Role.EARNER, org_tree["school1"], first_name="Inez", last_name="Ruiz")
    principal = make_user(Role.PRINCIPAL, org_tree["school1"], first_name="Pat", last_name="Lee")
    page.set_viewport_size(PHONE_360)

    sign_in(page, earner.email, PASSWORD)
    _open(page, f"/earn/self-assessment/{version.pk}/", re.compile("Self-assessment|Rate yourself"))
    for group in page.get_by_role("group").all():
        radios = group.get_by_role("radio")
        if radios.count():
            radios.last.check()
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_be_visible()
    expect_fits_360(page)

    supports.add_goal(earner, micro_credential=version.micro_credential)
    supports.add_goal(earner, text="Visit a colleague's class twice a term")
    _open(page, "/earn/plan/", re.compile("learning plan", re.I))
    page.get_by_role("button", name=re.compile("Send .*plan")).click()
    expect(page.get_by_text(re.compile("Waiting for", re.I)).first).to_be_visible()
    expect_fits_360(page)
    sign_out(page)

    sign_in(page, principal.email, PASSWORD)
    _open(page, "/earn/plans/sign-off/", re.compile("Plans to sign off", re.I))
    page.locator("main a[href*='/earn/plans/sign-off/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect_fits_360(page)
    page.get_by_label("Sign off the plan").check()
    page.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_text("Signed off").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _open(page, "/insights/staff/", re.compile("Staff progress", re.I))
    expect(page.get_by_text("Inez Ruiz").first).to_be_visible()
    expect_fits_360(page)


def test_feedback_after_not_yet_reads_on_a_phone(page: Page, seeded_db, not_yet) -> None:  # noqa: F811
    attempt = not_yet.attempt
    page.set_viewport_size(PHONE_360)
    sign_in(page, attempt.earner.email, PASSWORD)
    page.goto(f"/earn/{attempt.uuid}/")
    feedback = page.get_by_role("region", name=re.compile("feedback", re.I)).first
    expect(feedback).to_be_visible()
    expect_fits_360(page)
    expect(page.get_by_text("Ready to submit")).to_have_count(0)
