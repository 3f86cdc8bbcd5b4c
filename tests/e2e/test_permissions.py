"""Addresses a person may type or follow but not use, and a page that fails: a clear page in
the site's layout with a way on, never a stack trace."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.catalog.models import MicroCredentialVersion
from tests.web.failing_urls import BROKEN, BUG

from .helpers import EARNER, expect_page, sign_in_as

NO_ACCESS = "You don't have access to this page"


def visit(page: Page, address: str, status: int) -> None:
    """Type an address, as a person would, and check what came back."""
    response = page.goto(address)
    assert response is not None and response.status == status, address
    expect(page.get_by_text("Traceback")).to_have_count(0)


@pytest.mark.usefixtures("demo")
def test_an_earner_who_types_a_reviewer_or_author_address_is_told_and_led_back(page: Page):
    draft = MicroCredentialVersion.objects.get(
        micro_credential__slug="exit-tickets", status=MicroCredentialVersion.Status.DRAFT
    )
    sign_in_as(page, EARNER)

    visit(page, "/vetting/", 403)
    expect_page(page, NO_ACCESS)
    expect(page.get_by_text(f"your account ({EARNER.email}) does not have it")).to_be_visible()
    page.get_by_role("link", name="Go to my work").click()
    expect_page(page, "Welcome, Maya Ellison")

    visit(page, f"/author/versions/{draft.pk}/edit/", 403)
    expect_page(page, NO_ACCESS)
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_label("Find a micro-credential")).to_be_visible()


def test_an_unknown_address_leads_to_the_catalog(page: Page):
    visit(page, "/catalog/mc/no-such-micro-credential/", 404)
    expect_page(page, "We can't find that page")
    page.get_by_role("link", name="Search the catalog").click()
    expect_page(page, "Find a micro-credential")


@pytest.mark.urls("tests.web.failing_urls")
def test_a_page_that_fails_apologises_without_details(page: Page):
    visit(page, BROKEN, 500)
    expect_page(page, "Something went wrong on our side")
    expect(page.get_by_text(BUG)).to_have_count(0)
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_label("Find a micro-credential")).to_be_visible()
