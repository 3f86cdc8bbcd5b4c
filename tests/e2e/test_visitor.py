"""A visitor who is not signed in finds a micro-credential, reads what earning it takes, and
follows a stack, on a desktop screen and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import (
    PHONE,
    apply_filter,
    exact,
    expect_no_horizontal_scroll,
    expect_page,
    result_titles,
    search_from_home,
)

COACHING = "Collaborative Leadership Coaching"
COACHING_BANDS = ["Yes 16-20 Passing", "Almost 13-15 Not passing", "Not Yet 8-12 Not passing"]
EARLY_READING = [
    "Phonemic Awareness: Blending and Segmenting Sounds",
    "Phonics: Explicit, Systematic Letter-Sound Instruction",
    "Reading Fluency: Repeated Reading with Feedback",
    "Vocabulary: Teaching Useful Words in Depth",
    "Comprehension: Teaching Strategies Through Discussion",
]

pytestmark = pytest.mark.usefixtures("demo")


def evidence_part(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=title)


def open_coaching_from_search(page: Page) -> None:
    search_from_home(page, "coaching")
    expect(result_titles(page).filter(has_text=COACHING)).to_be_visible()
    page.get_by_role("link", name=COACHING).click()
    expect_page(page, COACHING)


def test_a_visitor_searches_filters_and_reads_what_to_submit_and_how_it_is_scored(page: Page):
    search_from_home(page, "coaching")
    expect(result_titles(page)).to_contain_text([COACHING])

    apply_filter(page, "Approved for", "License renewal")
    card = page.get_by_role("article").filter(has=page.get_by_role("link", name=COACHING))
    expect(card.get_by_role("list", name="Approved uses")).to_contain_text(
        "Approved for license renewal"
    )
    # The filter keeps only what is approved for that use: a subject the coaching MC lacks
    # empties the list, and the page says how to get out of it.
    apply_filter(page, "Subject", "Literacy and reading")
    expect(page.get_by_text("No published micro-credential matches “coaching”")).to_be_visible()
    page.get_by_role("link", name="clear the filters").click()
    expect(result_titles(page)).to_contain_text([COACHING])

    page.get_by_role("link", name=COACHING).click()
    expect_page(page, COACHING)
    expect(page.get_by_role("link", name="Sign in to start")).to_be_visible()

    overview = evidence_part(page, "Part 1. Overview questions")
    expect(overview).to_contain_text("Up to 1,000 words.")
    video = evidence_part(page, "Part 2. Work example: coaching video")
    expect(video).to_contain_text("Length: 10 minutes to 15 minutes.")
    expect(video).to_contain_text("time-stamped note")
    expect(evidence_part(page, "Part 3. Reflection")).to_contain_text("Up to 500 words.")

    expect(page.get_by_text(re.compile(r"Total: 20 points"))).to_be_visible()
    rubric_tables = page.locator("table.rubric")
    expect(rubric_tables).to_have_count(4)
    for caption in rubric_tables.locator("caption").all():
        expect(caption).to_contain_text("(5 points)")
    outcomes = page.get_by_role("table", name="Outcomes")
    expect(outcomes.get_by_role("row")).to_have_count(1 + len(COACHING_BANDS))
    for band in COACHING_BANDS:
        expect(outcomes.get_by_role("row", name=re.compile(f"^{band}"))).to_be_visible()

    expect(page.get_by_text("Approved for license renewal by")).to_contain_text("1.5 CEUs")


def test_a_visitor_follows_the_early_reading_stack_in_order(page: Page):
    page.goto("/catalog/")
    page.get_by_role("link", name="See the stacks").click()
    expect_page(page, "Stacks: pathways of micro-credentials")
    page.get_by_role("link", name="Early Reading Skills").click()
    expect_page(page, "Early Reading Skills")
    steps = page.locator("ol.pathway > li")
    expect(steps).to_have_count(len(EARLY_READING))
    expect(steps.get_by_role("heading", level=3)).to_have_text(
        [exact(title) for title in EARLY_READING]
    )
    expect(steps.filter(has_text="Required")).to_have_count(len(EARLY_READING))
    steps.get_by_role("link", name=EARLY_READING[1]).click()
    expect_page(page, EARLY_READING[1])


def test_on_a_phone_the_pages_fit_the_screen(page: Page):
    page.set_viewport_size(PHONE)
    open_coaching_from_search(page)
    expect_no_horizontal_scroll(page)
    expect(page.get_by_role("table", name="Outcomes")).to_be_visible()
    page.go_back()
    expect_no_horizontal_scroll(page)
    # On a narrow screen the results come first and a link leads to the filters.
    page.get_by_role("link", name="Filter these results").click()
    expect(page.get_by_role("heading", name="Filter results")).to_be_in_viewport()
    assert len(page.axe.audited) >= 3  # type: ignore[attr-defined]
