"""A district office imports its OneRoster roster in the browser (issue 12): it uploads the
SIS's zip, reads the dry run (new schools and accounts, students skipped, nothing saved yet),
imports it, and finds the new school with its staff. The same zip again has nothing to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.orgs.models import Membership, Role
from tests.e2e.helpers import Account, expect_message, expect_page, sign_in_as
from tests.orgs.oneroster_helpers import roster_zip

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"


def upload(page: Page, path) -> None:
    page.goto("/manage/import/")
    expect_page(page, "Import people or schools from a spreadsheet")
    page.get_by_label("A OneRoster 1.2 roster (zip of CSV files)").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()


def test_a_district_imports_its_roster(page: Page, org_tree, make_user, tmp_path):
    admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Dana")
    roster = tmp_path / "pine-roster.zip"
    roster.write_bytes(roster_zip())
    sign_in_as(page, Account(admin.email, PASSWORD))

    upload(page, roster)
    expect_page(page, "Check before importing: pine-roster.zip")
    counts = page.locator("ul.counts")
    expect(counts).to_contain_text("7 new accounts")
    expect(counts).to_contain_text("3 students or family members skipped")
    expect(page.get_by_role("table", name="Rows that would change")).to_contain_text(
        "Pine Ridge High School"
    )
    assert not Membership.objects.filter(user__email="maria.alvarez@pine.k12.nc.us").exists()

    page.get_by_role("button", name="Import 18 rows now").click()
    expect_message(page, "Imported pine-roster.zip: 1 new school")
    assert Membership.objects.filter(
        user__email="denise.carter@pine.k12.nc.us", role=Role.PRINCIPAL
    ).exists()

    upload(page, roster)
    expect(page.locator(".next-step")).to_contain_text("Nothing to import")
