"""The roll-out in the browser (issue 11): the state program office reads which district is
at which stage (table and chart); Pine County's program office starts a pilot with one school,
funds a micro-credential and asks for pre-approval of every start; a Pine Elementary teacher
sees "Funded by Pine County Schools" and her start waits for her principal; a teacher of a
school outside the pilot is told whom to ask. Every page fits a 360 px phone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from microcred.earning.models import Attempt, PreApproval
from microcred.orgs.models import Organization, Role
from tests.e2e.helpers import (
    Account,
    expect_message,
    expect_page,
    follow_nav,
    group,
    main_nav,
    sign_in_as,
    sign_out,
)

from .test_phone_layout import PHONE_360, expect_fits_360

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"
DESKTOP = {"width": 1280, "height": 900}


def account(user) -> Account:
    return Account(user.email, PASSWORD)


def on_phone(page: Page) -> None:
    """The page as it is now, at 360 px: nothing scrolls sideways. Back to a desktop after."""
    page.set_viewport_size(PHONE_360)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect_fits_360(page)
    page.set_viewport_size(DESKTOP)


def test_a_district_pilots_funds_and_asks_for_preapproval(page: Page, version, make_user, org_tree):
    pine = org_tree["lea1"]
    state_admin = make_user(Role.PROGRAM_ADMIN, org_tree["state"], first_name="Sam")
    district_admin = make_user(Role.PROGRAM_ADMIN, pine, first_name="Dana", last_name="Whitfield")
    teacher = make_user(Role.EARNER, org_tree["school1"], first_name="Inez", last_name="Ruiz")
    # Whom the teacher's request goes to (the decision itself: tests/orgs/test_programs_effects).
    make_user(Role.PRINCIPAL, org_tree["school1"], first_name="Paul")
    pine_middle = Organization.objects.create(
        kind=Organization.Kind.SCHOOL, name="Pine Middle", slug="pine-ms", parent=pine
    )
    outsider = make_user(Role.EARNER, pine_middle, first_name="Omar", last_name="Lee")
    detail = reverse("catalog:detail", args=[version.micro_credential.slug])

    # The state office: every district, at "Not started" for now, with the chart's data.
    sign_in_as(page, account(state_admin))
    follow_nav(page, "Program roll-out")
    expect_page(page, "Roll-out by district")
    districts = page.get_by_role("table", name=re.compile("districts?$"))
    expect(districts.get_by_role("row")).to_have_count(3)  # a header and two districts
    expect(districts).to_contain_text("Pine County Schools")
    expect(districts).to_contain_text("Oak City Schools")
    expect(page.locator("canvas[data-chart='stage-chart']")).to_be_attached()
    per_stage = page.get_by_role("table", name="Number of districts per stage")
    expect(per_stage.get_by_role("row", name="Not started")).to_contain_text("2")
    on_phone(page)
    sign_out(page)

    # Pine's program office lands on Pine's settings and starts a pilot.
    sign_in_as(page, account(district_admin))
    main_nav(page).get_by_role("link", name="Program roll-out").click()
    expect_page(page, "Program settings: Pine County Schools")
    group(page, "Stage").get_by_role("radio", name="Pilot").check()
    group(page, "Pilot cohort").get_by_role("checkbox", name="Pine Elementary").check()
    funded = group(page, "Micro-credentials the district funds")
    funded.get_by_label("Find a micro-credential in this list").fill(version.title[:12])
    funded.get_by_role("checkbox", name=version.title).check()
    page.get_by_role("checkbox", name="Every start waits for the principal's pre-approval").check()
    page.get_by_role("button", name="Save the program settings").click()
    expect_message(page, "The program settings of Pine County Schools were saved.")
    expect(group(page, "Stage").get_by_role("radio", name="Pilot")).to_be_checked()
    on_phone(page)
    sign_out(page)

    # The state office sees Pine in the pilot stage.
    sign_in_as(page, account(state_admin))
    follow_nav(page, "Program roll-out")
    pine_row = page.get_by_role("row", name=re.compile("^Pine County Schools"))
    expect(pine_row).to_contain_text("Pilot")
    expect(pine_row.get_by_role("cell", name="Yes")).to_be_visible()
    page.get_by_label("Stage", exact=True).select_option("pilot")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("table", name=re.compile("district matching"))).to_contain_text(
        "Pine County Schools"
    )
    sign_out(page)

    # A teacher of the pilot school: funded, and her start waits for her principal.
    sign_in_as(page, account(teacher))
    page.goto(detail)
    expect(page.get_by_role("note").filter(has_text="Funded by")).to_contain_text(
        "Funded by Pine County Schools"
    )
    on_phone(page)
    page.get_by_role("button", name="Start this micro-credential").click()
    expect_page(page, "Ask for pre-approval")
    page.get_by_label("What should it count for?").select_option("professional_learning")
    page.get_by_label("Why do you want to earn it?").fill("To ask better questions in class.")
    page.get_by_role("button", name="Send my request").click()
    expect_message(page, "Your request for pre-approval was sent.")
    attempt = Attempt.objects.get(earner=teacher)
    assert attempt.status == Attempt.Status.AWAITING_PREAPPROVAL
    assert PreApproval.objects.get(attempt=attempt).status == PreApproval.Status.PENDING
    sign_out(page)

    # A teacher of a school outside the pilot may browse, and is told whom to ask.
    sign_in_as(page, account(outsider))
    page.goto(detail)
    page.get_by_role("button", name="Start this micro-credential").click()
    expect_message(page, "Pine Middle is not one of them yet")
    expect_message(page, "Dana Whitfield")
    assert not Attempt.objects.filter(earner=outsider).exists()
