"""Program reports in the browser (issue 11): Pine County's program office reads its report,
groups it another way, sees the charts drawn beside their tables and downloads the CSV; the
state program office does the same for the state, by district, then picks a district. Every
page fits a 360 px phone. Figures: tests/insights/reports_world.py."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from microcred.orgs.models import Role
from tests.catalog.factories import catalog_people
from tests.e2e.helpers import Account, expect_page, sign_in_as, sign_out
from tests.insights import reports_world as world

from .test_phone_layout import PHONE_360, expect_fits_360

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"
DESKTOP = {"width": 1280, "height": 900}


def account(user) -> Account:
    return Account(user.email, PASSWORD)


def figures(page: Page) -> object:
    return page.get_by_role("table", name=re.compile(", by "))


def expect_charts_drawn(page: Page) -> None:
    """Chart.js drew every canvas (charts.js marks each one it drew): the five measures and
    the Guskey survey results."""
    charts = page.locator("canvas[data-chart]")
    expect(charts).to_have_count(6)
    expect(page.locator('canvas[data-chart="survey-levels-chart"]')).to_have_count(1)
    for canvas in charts.all():
        expect(canvas).to_have_attribute("data-drawn", "true")
    pass_rate = page.get_by_role("region", name=re.compile("^Pass rate by"))
    expect(pass_rate.get_by_role("table")).to_be_visible()


def download(page: Page, tmp_path: Path) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name="Download these figures as CSV").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    with target.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def on_phone(page: Page) -> None:
    page.set_viewport_size(PHONE_360)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "true")
    expect_fits_360(page)
    page.set_viewport_size(DESKTOP)


def test_district_and_state_read_reports_with_charts_and_csv(
    page: Page, version, make_user, org_tree, tmp_path: Path
):
    phonics = catalog_people(org_tree, make_user).publish(title="Phonics routines")
    world.build(org_tree, make_user, version, phonics)
    district_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Dana")
    state_admin = make_user(Role.PROGRAM_ADMIN, org_tree["state"], first_name="Sam")
    page.set_viewport_size(DESKTOP)

    # Pine's program office: its own district, by micro-credential.
    sign_in_as(page, account(district_admin))
    page.goto(reverse("insights:reports"))
    expect_page(page, "Program reports: Pine County Schools")
    coaching = figures(page).get_by_role("row", name=re.compile(f"^{re.escape(version.title)}"))
    expect(coaching).to_contain_text("50.0%")  # Ada not yet, Bea earned: first submissions
    expect(coaching).to_contain_text("100.0%")  # Ada's resubmission earned it
    expect_charts_drawn(page)

    # Another breakdown: by stack (none yet, so one row).
    page.get_by_label("Group by").select_option(label="Stack")
    page.get_by_role("button", name="Show the report").click()
    expect(figures(page)).to_have_accessible_name(re.compile("by stack"))
    expect(figures(page).get_by_role("row", name=re.compile("^Not in a stack"))).to_be_visible()
    expect_charts_drawn(page)
    rows = download(page, tmp_path)
    assert rows[0][0] == "Stack" and rows[0][4] == "Attempts started"
    assert rows[1][0] == "Not in a stack" and rows[1][4] == "4"
    on_phone(page)
    sign_out(page)

    # The state office: every district side by side, then one district.
    sign_in_as(page, account(state_admin))
    page.goto(reverse("insights:reports"))
    expect_page(page, "Program reports: State DPI")
    page.get_by_label("Group by").select_option(label="District (LEA)")
    page.get_by_role("button", name="Show the report").click()
    pine = figures(page).get_by_role("row", name=re.compile("^Pine County Schools"))
    expect(pine).to_contain_text("75.0%")  # three of Pine's four educators started
    expect_charts_drawn(page)
    rows = download(page, tmp_path)
    assert rows[0][0] == "District (LEA)" and rows[0][3] == "Uptake (%)"
    assert [rows[1][0], rows[1][3]] == ["Oak City Schools", "50.0"]
    assert rows[-1][0] == "All (total)" and rows[-1][4] == "5"
    on_phone(page)

    page.get_by_label("District", exact=True).select_option(label="Oak City Schools")
    page.get_by_label("Group by").select_option(label="Micro-credential")
    page.get_by_role("button", name="Show the report").click()
    expect_page(page, "Program reports: Oak City Schools")
    expect(figures(page).get_by_role("row", name=re.compile(f"^{re.escape(version.title)}")))
    expect(figures(page)).to_contain_text("0.0%")  # Oli's first submission: not yet
    on_phone(page)
