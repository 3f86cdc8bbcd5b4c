"""Steps the browser journeys share, written as a person would take them: links and buttons are
found by their visible name, fields by their label, and every step waits for what the person
would wait for (the next page's heading, a message) instead of sleeping."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode, urlparse

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


# The time step (of TOTP_PERIOD seconds) whose code each person last signed in with: allauth
# accepts a code once, so a second sign-in in the same step waits for the next code.
_last_step: dict[str, int] = {}


def totp_code(secret: str, email: str | None = None) -> str:
    """The code an authenticator app set up on `secret` shows now, as a person reads it off
    their phone. Not within a second or two of its end (it might expire before it arrives),
    nor one this person already used."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    while True:
        now = time.time()
        step = int(now) // period
        if period - now % period > 2 and (email is None or _last_step.get(email) != step):
            break
        time.sleep(period - now % period + 0.1)
    if email is not None:
        _last_step[email] = step
    return format_hotp_value(hotp_value(secret, step))


def pass_second_factor(page: Page, email: str) -> None:
    """After the password, the second step of sign-in where the account needs one: the code
    of the person's authenticator app; or, for someone whose role requires a second step and
    who has none yet, setting up an authenticator app through the page they are held at."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt
    from django.urls import reverse

    path = urlparse(page.url).path
    if path == reverse("mfa_authenticate"):
        app = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
        secret = decrypt(app.data["secret"])
        page.get_by_label("Code from your authenticator app, or a recovery code").fill(
            totp_code(secret, email)
        )
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    elif path == reverse("mfa_index"):
        page.get_by_role("link", name="Set up an authenticator app").click()
        secret = page.get_by_label("Secret to type into the app").input_value()
        page.get_by_label("6-digit code from the app").fill(totp_code(secret))
        page.get_by_role("button", name="Turn on the authenticator app").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Recovery codes"))


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


# ---------------------------------------------------------------------------- earning
def open_micro_credential(page: Page, slug: str) -> None:
    page.goto(f"/catalog/mc/{slug}/")


def start_micro_credential(page: Page, slug: str, title: str) -> None:
    """From the MC's public page, start an attempt; the portfolio page opens."""
    open_micro_credential(page, slug)
    page.get_by_role("button", name="Start this micro-credential").click()
    # The MC page's heading is the same title: wait for the portfolio itself, scripts and all.
    page.wait_for_url("**/earn/*/")
    page.wait_for_load_state()
    expect_page(page, title)


def open_my_attempt(page: Page, title: str) -> None:
    """From the dashboard's list of micro-credentials, open the portfolio of `title`."""
    page.goto("/me/")
    page.get_by_role("link", name=title, exact=True).click()
    expect_page(page, title)


def expect_attempt_status(page: Page, label: str) -> None:
    """The portfolio page's opening line gives the attempt's status."""
    expect(page.locator("main .lead")).to_contain_text(f"Status: {label}.")


def evidence_part(page: Page, title: str) -> Locator:
    """One part of the portfolio (a section named by its heading)."""
    return page.get_by_role("region", name=title, exact=True)


def write_part(page: Page, title: str, text: str) -> None:
    """Type an answer, watch the live word count follow, and save it with the Save button."""
    part = evidence_part(page, title)
    part.get_by_label("Your answer").fill(text)
    words = len(text.split())
    expect(part.get_by_text(re.compile(rf"^{words} words? of \d+\.$"))).to_be_visible()
    part.get_by_role("button", name="Save", exact=True).click()
    expect_message(page, f"Saved “{title}”.")


def upload_video(page: Page, title: str, path: Path) -> None:
    """Send a video through the part's uploader and wait until it is attached and probed
    (the page reloads with the file's own heading and its length)."""
    chooser = page.get_by_label(f"Add a file to “{title}”")
    expect(chooser).to_be_enabled()
    chooser.set_input_files(path)
    card = evidence_part(page, title).get_by_role("heading", name=path.name)
    expect(card).to_be_visible(timeout=30_000)


def add_video_note(page: Page, title: str, time: str, component: str, note: str) -> None:
    """A time-stamped note tied to a rubric component, starting from the player's current time
    (one click), then set to `time`."""
    form = evidence_part(page, title).locator("form[data-note-form]")
    form.get_by_role("button", name="Use the video's current time").click()
    expect(form.get_by_label("Time in the video (minutes:seconds)")).to_have_value("0:00")
    form.get_by_label("Time in the video (minutes:seconds)").fill(time)
    form.get_by_label("Component of the method").select_option(label=component)
    form.get_by_label("What happens here").fill(note)
    form.get_by_role("button", name="Add the note").click()
    expect(
        evidence_part(page, title).get_by_role("button", name=f"Play from {time}")
    ).to_be_visible()


def submit_portfolio(page: Page, number: int) -> None:
    expect(page.get_by_role("heading", name="Ready to submit")).to_be_visible()
    page.get_by_role("button", name="Submit my portfolio").click()
    expect_message(page, f"Submission {number} sent")


def submission_row(page: Page, number: int) -> Locator:
    """The row of submission `number` in the attempt's history of submissions and feedback."""
    history = page.get_by_role("region", name="Submissions")
    return history.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=str(number), exact=True)
    )


# ---------------------------------------------------------------------------- teams
def create_team(page: Page, name: str) -> None:
    page.get_by_label("Team name").fill(name)
    page.get_by_role("button", name="Create the team").click()
    expect(page.get_by_role("region", name="Team")).to_contain_text(f"“{name}”")


def invite_colleague(page: Page, name: str, email: str) -> None:
    page.get_by_label("Colleague to invite").select_option(label=f"{name} ({email})")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("region", name="Team")).to_contain_text(f"{name} (invited)")


def accept_invitation(page: Page, title: str) -> None:
    """On the dashboard, join the team that invited you; its portfolio opens."""
    page.goto("/me/")
    page.get_by_role("button", name="Join the team").click()
    expect_page(page, title)


# ---------------------------------------------------------------------------- assessing
def open_first_assignment(page: Page) -> None:
    """From the scoring queue in the menu, open the submission waiting to be scored."""
    follow_nav(page, "My scoring queue")
    page.get_by_role("link", name=re.compile(r"^Score ")).first.click()
    expect(page.get_by_role("button", name="Send the score")).to_be_visible()


def expect_blind(page: Page, *traces: str) -> None:
    """Nothing on the page (markup included) names the earner."""
    html = page.content()
    for trace in traces:
        assert trace not in html, f"{trace!r} on {page.url} reveals who the earner is"


def score_in_browser(
    page: Page, marks: dict[int, list[int]], feedback: dict[str, str], overall: str
) -> None:
    """Check the rubric details `marks` (component id -> criterion ids), write feedback for
    each component (by title), the overall feedback, and send the score."""
    for criteria in marks.values():
        for criterion in criteria:
            page.locator(f"#crit-{criterion}").check()
    for title, text in feedback.items():
        page.get_by_label(f"Feedback on “{title}”").fill(text)
    page.get_by_label("Overall feedback for the earner").fill(overall)
    points = sum(len(c) for c in marks.values())
    page.get_by_role("button", name="Send the score").click()
    expect(page.get_by_text(re.compile(rf"^Score sent: {points} points"))).to_be_visible()
