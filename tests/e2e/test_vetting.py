"""A new micro-credential's way into the catalog, in the browser, with the demo's people: a
provider author drafts it (and first gets a mistake explained), a vetting reviewer asks for
changes, the author revises, the reviewer approves, the author publishes, a recognizer approves
it for license renewal, and a visitor finds it by that use."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from microcred.catalog.models import MicroCredential

from .helpers import (
    PROVIDER,
    RECOGNIZER,
    REVIEWER,
    apply_filter,
    expect_message,
    expect_page,
    follow_nav,
    group,
    result_titles,
    search_catalog,
    sign_in_as,
    sign_out,
)

TITLE = "Morning Meeting Circles"
PROVIDER_NAME = "Coaching Leaders Institute"
CHANGES_COMMENT = "Cite the research on morning meetings (for example Responsive Classroom)."
# What the demo state's "License renewal" policy grants for an MC approved for renewal.
RENEWAL_CREDIT = re.compile(r"CEUs? \(License renewal\)")

pytestmark = pytest.mark.usefixtures("demo")


# ---------------------------------------------------------------------------- the author
def fill_new_micro_credential(page: Page, *, word_limit: str, not_yet: tuple[str, str]) -> None:
    """Fill every section of the editor as an author would, with the written part's word
    limit and the lowest band's points as given (the only fields the journey gets wrong)."""
    basics = page.get_by_role("region", name="1. Basics")
    basics.get_by_label("Title").fill(TITLE)
    basics.get_by_label("Summary").fill("Open the day with a circle that greets every student.")
    basics.get_by_label("Competency statement").fill(
        "The teacher leads a daily morning meeting in which every student is greeted by name, "
        "shares, and takes part in a group activity."
    )
    basics.get_by_label("Key method").fill("Greeting, sharing, group activity, morning message.")
    basics.get_by_label("Research basis").fill("Kriete and Davis (2014), The Morning Meeting Book.")
    basics.get_by_label("Estimated hours").fill("10")
    basics.get_by_label("Difficulty").select_option(label="Foundational")
    group(basics, "Grade bands").get_by_label("Grades K-2").check()

    component = group(page, "Component 1")
    component.get_by_label("Title").fill("Greeting")
    component.get_by_label("Description").fill("Every student is greeted by name.")

    written = group(page, "Evidence part 1")
    written.get_by_label("Kind").select_option(label="Written response")
    written.get_by_label("Title").fill("Meeting plan")
    written.get_by_label("Instructions").fill("Describe one week of morning meetings.")
    written.get_by_label("Word limit").fill(word_limit)

    rubric = group(page, "Rubric component 1")
    rubric.get_by_label("Title").fill("Greeting")
    details = [
        "Every student is greeted by name.",
        "Students greet one another.",
        "The greeting is warm and brief.",
    ]
    for number, text in enumerate(details, start=1):
        group(rubric, f"Detail or level {number}").get_by_label("What the assessor looks for").fill(
            text
        )

    # Three details of one point each: 3 points in all.
    for number, (low, high) in enumerate([("3", "3"), ("2", "2"), not_yet], start=1):
        band = group(page, f"Outcome band {number}")  # offered as Yes, Almost, Not yet
        band.get_by_label("From (points)").fill(low)
        band.get_by_label("To (points)").fill(high)

    standards = page.get_by_role("region", name="7. Standards it is aligned to")
    standards.get_by_text(re.compile(r"^Microcred Teaching .*standards\)$")).click()  # opens it
    standards.get_by_role("checkbox", name=re.compile(r"^MTS\.3 ")).check()


def save_draft(page: Page) -> None:
    page.get_by_role("button", name="Save draft").first.click()


def create_with_a_mistake_then_fix_it(page: Page) -> None:
    follow_nav(page, "My micro-credentials")
    expect_page(page, "My micro-credentials")
    page.get_by_role("region", name=PROVIDER_NAME).get_by_role(
        "link", name="Create a micro-credential"
    ).click()
    expect_page(page, "New micro-credential")

    fill_new_micro_credential(page, word_limit="0", not_yet=("0", "0"))
    save_draft(page)
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Nothing was saved: 2 problems to fix")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Evidence part 1: 'Meeting plan': the word limit must be at least 1 word.",
            "Outcome bands: No band covers 1-1 points, between 'Not yet' and 'Almost'.",
        ]
    )
    assert not MicroCredential.objects.filter(versions__title=TITLE).exists()
    # What was typed is still there: only the two mistakes need fixing.
    expect(page.get_by_role("region", name="1. Basics").get_by_label("Title")).to_have_value(TITLE)

    group(page, "Evidence part 1").get_by_label("Word limit").fill("300")
    group(page, "Outcome band 3").get_by_label("To (points)").fill("1")
    save_draft(page)
    expect_page(page, TITLE)
    expect_message(page, "Draft saved.")
    expect(page.get_by_text("Version 1 by Coaching Leaders Institute: Draft")).to_be_visible()


def preview_and_send_for_vetting(page: Page) -> None:
    page.get_by_role("link", name="Preview as teachers see it").click()
    expect_page(page, TITLE)
    expect(page.get_by_role("region", name="Meeting plan")).to_contain_text("Up to 300 words.")
    expect(page.get_by_role("table", name="Outcomes")).to_contain_text("Almost")
    page.get_by_role("link", name="Back to its page").click()
    send_for_vetting(page)


def send_for_vetting(page: Page) -> None:
    page.get_by_role("button", name="Send for vetting").click()
    expect_message(page, "Sent for vetting.")
    expect(page.get_by_role("button", name="Send for vetting")).to_have_count(0)


def open_my_micro_credential(page: Page) -> None:
    follow_nav(page, "My micro-credentials")
    page.get_by_role("row", name=re.compile(TITLE)).get_by_role("link", name=TITLE).click()
    expect_page(page, TITLE)


# ---------------------------------------------------------------------------- the reviewer
def open_review(page: Page) -> None:
    follow_nav(page, "Vetting queue")
    expect_page(page, "Vetting queue")
    page.get_by_role("link", name=TITLE).click()
    expect_page(page, f"Review: {TITLE}")


def review(
    page: Page, decision: str, comments: str, exceptions: dict[str, tuple[str, str]] | None = None
) -> None:
    """Rate every quality criterion "meets" except those in `exceptions` (criterion title ->
    rating, comment), write the comments, decide, save."""
    for radio in page.get_by_role("radio", name="Meets the standard").all():
        radio.check()
    for criterion, (rating, comment) in (exceptions or {}).items():
        group(page, criterion).get_by_role("radio", name=rating).check()
        page.get_by_label(f"Comment on {criterion.lower()}").fill(comment)
    page.get_by_label("Overall comments to the provider").fill(comments)
    group(page, "Your decision").get_by_role("radio", name=re.compile(f"^{decision}:")).check()
    page.get_by_role("button", name="Save my review").click()
    expect_page(page, "Vetting queue")
    expect_message(page, "Review saved")


# ---------------------------------------------------------------------------- the journey
def test_a_new_micro_credential_goes_from_draft_through_vetting_into_the_catalog(page: Page):
    sign_in_as(page, PROVIDER)
    create_with_a_mistake_then_fix_it(page)
    preview_and_send_for_vetting(page)
    sign_out(page)

    sign_in_as(page, REVIEWER)
    open_review(page)
    review(
        page,
        "Request changes",
        CHANGES_COMMENT,
        {"Research basis": ("Partially meets", "One citation is thin.")},
    )
    expect(page.get_by_role("link", name=TITLE)).to_have_count(0)  # out of the queue
    sign_out(page)

    sign_in_as(page, PROVIDER)
    follow_nav(page, "My micro-credentials")
    row = page.get_by_role("row", name=re.compile(TITLE))
    expect(row).to_contain_text("Changes requested")
    row.get_by_role("link", name="Read them").click()
    reviews = page.get_by_role("article")
    expect(reviews).to_contain_text(CHANGES_COMMENT)
    expect(reviews.get_by_role("row", name=re.compile("^Research basis"))).to_contain_text(
        "Partially meets One citation is thin."
    )
    page.get_by_role("link", name="Edit the draft").click()
    expect_page(page, f"Edit version 1: {TITLE}")
    page.get_by_role("region", name="1. Basics").get_by_label("Research basis").fill(
        "Kriete and Davis (2014), The Morning Meeting Book; Rimm-Kaufman et al. (2014), "
        "efficacy of the Responsive Classroom approach, American Educational Research Journal."
    )
    save_draft(page)
    expect_message(page, "Draft saved.")
    send_for_vetting(page)
    sign_out(page)

    sign_in_as(page, REVIEWER)
    follow_nav(page, "Vetting queue")
    expect(page.get_by_role("row", name=re.compile(TITLE))).to_contain_text(
        "Yes: changes were requested"
    )
    open_review(page)
    expect(page.get_by_role("heading", name="Previous reviews")).to_be_visible()
    review(page, "Approve", "Thank you: the research basis is now clear.")
    sign_out(page)

    sign_in_as(page, PROVIDER)
    follow_nav(page, "My micro-credentials")
    page.get_by_role("row", name=re.compile(TITLE)).get_by_role("link", name="Publish it").click()
    expect_page(page, TITLE)
    page.get_by_role("button", name="Publish in the catalog").click()
    expect_message(page, "Published: teachers can now find it in the catalog")
    sign_out(page)

    sign_in_as(page, RECOGNIZER)
    follow_nav(page, "Approvals for use")
    expect_page(page, "Approvals for use")
    page.get_by_label("Find a micro-credential").fill("morning")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=morning"))
    page.get_by_role("link", name=f"Approve {TITLE} for a use").click()
    expect_page(page, TITLE)
    group(page, "Approve it for").get_by_role("radio", name="License renewal").check()
    page.get_by_role("button", name="Approve for this use").click()
    expect_message(page, "Approved for license renewal by")
    approval = page.get_by_role("listitem").filter(has_text="Approved by")
    expect(approval.filter(has_text="License renewal")).to_contain_text(RENEWAL_CREDIT)
    sign_out(page)

    follow_nav(page, "Catalog")
    search_catalog(page, "morning meeting")
    apply_filter(page, "Approved for", "License renewal")
    expect(result_titles(page)).to_have_text([TITLE])
    page.get_by_role("link", name=TITLE).click()
    expect_page(page, TITLE)
    expect(page.get_by_text("Approved for license renewal by")).to_contain_text(RENEWAL_CREDIT)
