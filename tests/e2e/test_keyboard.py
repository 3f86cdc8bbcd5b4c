"""The skip link, the main menu, the search form and signing in, with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import Account, expect_page, expect_results_for, main_nav, tab_to

TEACHER = Account("inez@example.org", "pw-for-tests-1")  # make_user's password


@pytest.fixture
def teacher(make_user):
    return make_user(email=TEACHER.email, display_name="Inez Park")


def test_skip_link_menu_search_and_sign_in_work_without_a_mouse(page: Page, teacher):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # kept off screen until it has the focus
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.get_by_label("Find a micro-credential")).to_be_focused()
    page.keyboard.type("phonics")
    page.keyboard.press("Enter")
    expect_results_for(page, "phonics")

    tab_to(page, main_nav(page).get_by_role("link", name="Sign in"))
    page.keyboard.press("Enter")
    expect_page(page, "Sign in")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(TEACHER.email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(TEACHER.password)
    page.keyboard.press("Enter")
    expect(main_nav(page).get_by_role("button", name="Sign out")).to_be_visible()

    tab_to(page, main_nav(page).get_by_role("link", name="My work"))
    page.keyboard.press("Enter")
    expect_page(page, "Welcome, Inez Park")
