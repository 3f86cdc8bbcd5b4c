"""Pages a teacher or an administrator opens on a phone fit a 360 px screen: nothing scrolls
sideways (issue 8, finding 18). Each page is loaded as the person who would open it, at the
narrowest common phone width, with axe and the CSP watch running as on every browser test.
The submitted portfolio page also names each of its landmarks once (axe's landmark-unique)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.credentials.models import IssuedCredential
from microcred.earning import services as earning_services
from tests.earning.portfolio_helpers import ready_portfolio, world_fixture  # noqa: F401

from .harness import sign_in
from .helpers import EARNER, RECOGNIZER, Account, sign_in_as, sign_out

PHONE_360 = {"width": 360, "height": 740}
DISTRICT_ADMIN = Account("district-admin@demo.microcred.org", "demo-district-admin-pass")

# What sticks out, for the failure message: the outermost elements wider than the window.
WIDEST = """() => {
  const width = window.innerWidth
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .filter((el) => el.parentElement.getBoundingClientRect().right <= width + 0.5)
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''}` +
      ` (${Math.round(el.getBoundingClientRect().right)}px)`)
}"""


def expect_fits_360(page: Page) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_360["width"], (
        f"{page.url} is {scroll_width}px wide at 360px; wider parts: {page.evaluate(WIDEST)}"
    )


@pytest.fixture
def phone(page: Page, demo) -> Page:
    page.set_viewport_size(PHONE_360)
    return page


def test_the_credential_page_fits_a_phone(phone: Page) -> None:
    credential = (
        IssuedCredential.objects.filter(award__earner__email=EARNER.email).first()
        or IssuedCredential.objects.first()
    )
    assert credential is not None, "the demo issues credentials"
    sign_in_as(phone, EARNER)
    phone.goto(f"/credentials/{credential.uuid}")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect_fits_360(phone)
    # Verified, the page grows a report of every check: that fits too.
    phone.goto(f"/credentials/{credential.uuid}?verify=1")
    expect_fits_360(phone)


def test_the_recognizer_approvals_fit_a_phone(phone: Page) -> None:
    sign_in_as(phone, RECOGNIZER)
    phone.goto("/vetting/approvals/")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect_fits_360(phone)
    phone.locator("main a[href*='/vetting/approvals/versions/']").first.click()
    phone.wait_for_load_state()
    expect_fits_360(phone)


def test_the_school_and_district_pages_fit_a_phone(phone: Page) -> None:
    sign_in_as(phone, DISTRICT_ADMIN)
    for slug in ("maple-valley", "maple-valley-es"):
        phone.goto(f"/manage/organizations/{slug}/")
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        expect_fits_360(phone)
    sign_out(phone)


def test_a_districts_integration_pages_fit_a_phone(phone: Page) -> None:
    # Single sign-on, learning platforms, webhooks and the roster import, empty and their forms.
    sign_in_as(phone, DISTRICT_ADMIN)
    for path in (
        "/manage/sso/",
        "/manage/sso/new/",
        "/lti/platforms/",
        "/lti/platforms/new/",
        "/manage/webhooks/",
        "/manage/webhooks/add/",
        "/manage/import/",
    ):
        response = phone.goto(path)
        assert response is not None and response.status == 200, path
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        expect_fits_360(phone)
    sign_out(phone)


# axe's rules about landmarks, including the best-practice ones the harness's WCAG run leaves
# out: two regions with one name cannot be told apart in a screen reader's landmark list.
LANDMARK_RULES = ["landmark-unique", "landmark-no-duplicate-main", "landmark-one-main", "region"]


def test_the_submitted_portfolio_names_each_landmark_once(
    page: Page, seeded_db, world, django_capture_on_commit_callbacks
) -> None:
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    earning_services.submit(attempt, user=world.earner)
    sign_in(page, world.earner.email, "pw-for-tests-1")
    page.set_viewport_size(PHONE_360)
    page.goto(f"/earn/{attempt.uuid}/")
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()
    page.axe.run()  # type: ignore[attr-defined]  # loads axe into this page, once
    found = page.evaluate(
        """async (rules) => (await axe.run(document, {runOnly: {type: 'rule', values: rules}}))
            .violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' '))}`)""",
        LANDMARK_RULES,
    )
    assert found == []
    expect(page.get_by_role("region", name="Table of submissions")).to_be_visible()
    expect_fits_360(page)
