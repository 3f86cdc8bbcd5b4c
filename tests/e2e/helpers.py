"""Steps the browser journeys share, written as a person would take them: links and buttons are
found by their visible name, fields by their label, and every step waits for what the person
would wait for (the next page's heading, a message) instead of sleeping."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from . import harness


class Account(NamedTuple):
    email: str
    password: str


# Demo sign-ins (microcred.orgs.demo.ACCOUNTS), loaded by the `demo` fixture.
PROVIDER = Account("provider@demo.microcred.org", "demo-provider-pass")
REVIEWER = Account("reviewer@demo.microcred.org", "demo-reviewer-pass")
RECOGNIZER = Account("recognizer@demo.microcred.org", "demo-recognizer-pass")
EARNER = Account("earner@demo.microcred.org", "demo-earner-pass")

PHONE = {"width": 390, "height": 844}


def exact(text: str) -> re.Pattern[str]:
    """An accessible name equal to `text`, whatever the surrounding whitespace."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


# ---------------------------------------------------------------------------- signing in and out
def sign_in_as(page: Page, account: Account) -> None:
    harness.sign_in(page, account.email, account.password)
    expect(main_nav(page).get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    harness.sign_out(page)
    expect(main_nav(page).get_by_role("link", name="Sign in")).to_be_visible()


# ---------------------------------------------------------------------------- moving around
def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def follow_nav(page: Page, label: str) -> None:
    """Click an item of the main menu and wait until its page is the one shown."""
    link = main_nav(page).get_by_role("link", name=label, exact=True)
    address = link.get_attribute("href") or ""
    link.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(address)}$"))


def expect_page(page: Page, title: str | re.Pattern[str]) -> None:
    """The page whose main heading is `title` has loaded."""
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def expect_message(page: Page, text: str | re.Pattern[str]) -> None:
    """A flash message (the status region at the top of main) says `text`."""
    expect(page.locator("main .messages")).to_contain_text(text)


def group(scope: Page | Locator, name: str) -> Locator:
    """A fieldset by its legend ("Component 1", not "Rubric component 1"; Django's form
    legends end with a colon): forms repeat labels such as "Title" in every row."""
    return scope.get_by_role("group", name=re.compile(rf"^{re.escape(name)}:?$"))


# ---------------------------------------------------------------------------- the catalog
def search_from_home(page: Page, text: str) -> None:
    page.goto("/")
    page.get_by_label("Find a micro-credential").fill(text)
    page.get_by_role("button", name="Search the catalog").click()
    expect_results_for(page, text)


def search_catalog(page: Page, text: str) -> None:
    """Search again from the catalog page itself."""
    page.get_by_label("Search the catalog").fill(text)
    page.get_by_role("button", name="Search", exact=True).click()
    expect_results_for(page, text)


def expect_results_for(page: Page, text: str) -> None:
    expect_page(page, "Find a micro-credential")
    expect(results_heading(page)).to_contain_text(f"for “{text}”")


def results_heading(page: Page) -> Locator:
    return page.locator("#results-heading")


def result_titles(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile("micro-credential")).get_by_role(
        "heading", level=3
    )


def apply_filter(page: Page, group_label: str, option: str) -> None:
    """Tick one option of a filter group of the catalog and apply the filters."""
    box = group(page, group_label).get_by_role(
        "checkbox", name=re.compile(rf"^{re.escape(option)} \(")
    )
    chosen = urlencode({box.get_attribute("name"): box.get_attribute("value")})
    box.check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"[?&]{re.escape(chosen)}(&|$)"))
    expect(results_heading(page)).to_contain_text("with your filters")
    expect(box).to_be_checked()


def expect_no_horizontal_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window (a phone user never scrolls sideways)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is {widths[0]}px wide in a {widths[1]}px window"


def tab_to(page: Page, target: Locator, most: int = 30) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through a page."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never received focus within {most} presses of Tab")
