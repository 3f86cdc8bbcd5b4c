"""Issue 11: a PLC of two schools, in two districts, earns a micro-credential together.

Michelle (Pine Elementary, Pine County) makes a team and invites Omar (Oak Middle, Oak City) by
email; he joins from his dashboard and writes a part; Michelle submits once. The assessor from
Oak City's office is conflicted through Omar, so the read goes to the other assessor; the score
credits both."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment.models import Assignment, Award
from microcred.orgs.models import Role
from tests.assessment.helpers import component_ids

from .helpers import (
    Account,
    accept_invitation,
    add_video_note,
    create_team,
    evidence_part,
    open_my_attempt,
    sign_in_as,
    sign_out,
    start_micro_credential,
    submit_portfolio,
    upload_video,
    write_part,
)
from .test_stories import (  # noqa: F401 (fixtures, found by name)
    PASSING_POINTS,
    PASSWORD,
    PLAN,
    REFLECTION,
    VIDEO,
    clip,
    score,
    version,
)

pytestmark = pytest.mark.e2e


def test_a_plc_of_two_schools_in_two_districts_earns_it_together(
    page: Page,
    version,  # noqa: F811
    make_assessor,
    clip: Path,  # noqa: F811
    make_user,
    org_tree,
):
    michelle = make_user(Role.EARNER, org_tree["school1"], first_name="Michelle", last_name="Lee")
    omar = make_user(Role.EARNER, org_tree["school2"], first_name="Omar", last_name="Haddad")
    # Oak City's own assessor may not read a portfolio Omar is on; the other one may.
    conflicted = make_assessor(home=org_tree["lea2"])
    neutral = make_assessor()
    slug, title = version.micro_credential.slug, version.title

    sign_in_as(page, Account(michelle.email, PASSWORD))
    start_micro_credential(page, slug, title)
    create_team(page, "Two-school PLC")
    team = page.get_by_role("region", name="Team")
    team.get_by_label("Their email address").fill(omar.email.upper())
    team.get_by_role("button", name="Send the invitation").click()
    expect(team).to_contain_text(f"{omar} (invited)")
    sign_out(page)

    sign_in_as(page, Account(omar.email, PASSWORD))
    accept_invitation(page, title)
    write_part(page, PLAN, "Both schools plan questions together.")
    sign_out(page)

    sign_in_as(page, Account(michelle.email, PASSWORD))
    open_my_attempt(page, title)
    expect(evidence_part(page, PLAN).get_by_label("Your answer")).to_have_value(
        "Both schools plan questions together."
    )
    upload_video(page, VIDEO, clip)
    first_component = component_ids(version)[0].title
    add_video_note(page, VIDEO, "0:01", first_component, "Students answer each other.")
    write_part(page, REFLECTION, "Two schools see more.")
    submit_portfolio(page, 1)
    sign_out(page)

    assignment = Assignment.objects.get(status=Assignment.Status.ASSIGNED)
    assert assignment.assessor_id == neutral.pk != conflicted.pk
    score(
        page,
        Account(neutral.user.email, PASSWORD),
        version,
        PASSING_POINTS,
        "Strong shared evidence.",
        "Michelle",
        "Omar",
        "Pine Elementary",
        "Oak Middle",
    )

    for person in (michelle, omar):
        sign_in_as(page, Account(person.email, PASSWORD))
        page.goto("/me/")
        expect(page.get_by_role("row", name=title)).to_contain_text("Earned")
        sign_out(page)
    assert sorted(Award.objects.values_list("earner", flat=True)) == sorted([michelle.pk, omar.pk])
