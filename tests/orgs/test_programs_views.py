"""The roll-out pages over HTTP: the state view and one district's settings, with users who
may and users who may not, and bad input that changes nothing."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from microcred.orgs import programs
from microcred.orgs.models import AuditEvent, LeaProgram, Organization, Role

from ..catalog.factories import catalog_people, vary

pytestmark = pytest.mark.django_db
Stage = LeaProgram.Stage
LIST = reverse("orgs:programs")
PINE = reverse("orgs:program_edit", args=["pine"])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def pine_middle(org_tree) -> Organization:
    return Organization.objects.create(
        kind=Organization.Kind.SCHOOL, name="Pine Middle", slug="pine-ms", parent=org_tree["lea1"]
    )


@pytest.fixture
def mc(org_tree, make_user):
    return catalog_people(org_tree, make_user).publish(vary(title="Wait time")).micro_credential


def form_data(**changes) -> dict:
    data = {"stage": "planning", "seen": ""}
    data.update(changes)
    return data


def saved_state(org_tree) -> tuple:
    program = programs.program_for(org_tree["lea1"])
    return programs.settings_of(program), AuditEvent.objects.count()


@pytest.mark.parametrize("url", [LIST, PINE])
def test_visitors_are_sent_to_sign_in(client, org_tree, url):
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert client.post(url, form_data()).status_code == 302
    assert not LeaProgram.objects.exists()


def test_people_without_the_role_get_a_plain_403(org_tree, teacher, make_user):
    principal = make_user(Role.PRINCIPAL, org_tree["school1"])
    for user in (teacher, principal):
        client = signed_in(user)
        response = client.get(LIST)
        assert response.status_code == 403
        assert "for the state's and the districts' program staff" in text_of(response)
        assert client.get(PINE).status_code == 403
        assert client.post(PINE, form_data()).status_code == 403
    assert not LeaProgram.objects.exists()


def test_another_districts_admin_cannot_open_or_change_pine(org_tree, make_user):
    oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
    client = signed_in(oak_admin)
    response = client.get(PINE)
    assert response.status_code == 403
    assert "Only the program staff of Pine County Schools" in text_of(response)
    assert client.post(PINE, form_data(stage="full")).status_code == 403
    assert not LeaProgram.objects.exists()
    # A school or an unknown name is no district.
    assert client.get(reverse("orgs:program_edit", args=["oak-ms"])).status_code == 404
    assert client.get(reverse("orgs:program_edit", args=["nowhere"])).status_code == 404


def test_the_state_admin_sees_every_district_with_table_and_chart(
    org_tree, state_admin, pine_middle, mc
):
    programs.save_program(
        state_admin,
        org_tree["lea1"],
        programs.ProgramSettings(Stage.PILOT, frozenset({pine_middle.pk}), frozenset({mc.pk})),
        seen="",
    )
    response = signed_in(state_admin).get(LIST)
    assert response.status_code == 200
    page = text_of(response)
    assert "Pine County Schools" in page and "Oak City Schools" in page
    assert 'data-chart="stage-chart"' in page
    chart = json.loads(
        re.search(r'<script id="stage-chart"[^>]*>(.*?)</script>', page, re.S).group(1)
    )
    assert chart["type"] == "bar" and chart["unit"] == ""
    assert chart["datasets"][0]["data"] == [1, 0, 1, 0, 0]
    assert "insights/charts.js" in page and "vendor/chartjs/chart.umd.min.js" in page
    pine_row = re.search(r"Pine County Schools</a>.*?</tr>", page, re.S).group(0)
    assert ">Pilot<" in pine_row and ">1<" in pine_row
    assert reverse("orgs:program_edit", args=["oak"]) in page

    filtered = text_of(signed_in(state_admin).get(LIST, {"region": "East"}))
    assert "Oak City Schools" in filtered and "Pine County Schools</a>" not in filtered
    none = text_of(signed_in(state_admin).get(LIST, {"stage": "full"}))
    assert "No district matches these filters" in none


def test_a_bad_filter_is_named_and_the_whole_list_shows(org_tree, state_admin):
    response = signed_in(state_admin).get(LIST, {"stage": "launched", "locale": "moon"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Choose a stage from the list." in page and "Choose a locale from the list." in page
    assert "Pine County Schools" in page and "Oak City Schools" in page


def test_a_district_admin_goes_straight_to_their_district(org_tree, lea_admin):
    response = signed_in(lea_admin).get(LIST)
    assert response.status_code == 302 and response["Location"] == PINE


def test_the_district_admin_saves_and_a_second_post_changes_nothing(
    org_tree, lea_admin, pine_middle, mc
):
    client = signed_in(lea_admin)
    page = text_of(client.get(PINE))
    assert "Pine Middle" in page and "Wait time" in page and "Oak Middle" not in page
    data = form_data(
        stage="pilot", pilot_schools=[pine_middle.pk], funded=[mc.pk], requires_preapproval="on"
    )
    response = client.post(PINE, data, follow=True)
    assert "The program settings of Pine County Schools were saved." in text_of(response)
    program = LeaProgram.objects.get(lea=org_tree["lea1"])
    assert program.stage == Stage.PILOT and program.requires_preapproval
    assert list(program.pilot_schools.all()) == [pine_middle]
    assert list(program.funded_micro_credentials.all()) == [mc]
    # The same form, sent again with the stamp it was opened with.
    again = client.post(PINE, data, follow=True)
    assert "Nothing had changed, so nothing was saved." in text_of(again)
    assert AuditEvent.objects.filter(action="program.updated").count() == 1


def test_a_school_of_another_district_is_refused_and_nothing_changes(
    org_tree, lea_admin, pine_middle
):
    before = saved_state(org_tree)
    response = signed_in(lea_admin).post(
        PINE, form_data(stage="pilot", pilot_schools=[org_tree["school2"].pk])
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Nothing was saved." in page and "Choose schools of this district only." in page
    assert saved_state(org_tree) == before


def test_a_cohort_outside_the_pilot_stage_is_explained_and_nothing_changes(
    org_tree, lea_admin, pine_middle
):
    before = saved_state(org_tree)
    response = signed_in(lea_admin).post(
        PINE, form_data(stage="expanding", pilot_schools=[pine_middle.pk])
    )
    assert response.status_code == 400
    assert "A pilot cohort applies only in the pilot stage" in text_of(response)
    assert saved_state(org_tree) == before


def test_a_form_opened_before_someone_elses_change_does_not_overwrite_it(
    org_tree, lea_admin, state_admin
):
    client = signed_in(lea_admin)
    stamp_field = re.search(r'name="seen" value="([^"]*)"', text_of(client.get(PINE)))
    opened = stamp_field.group(1) if stamp_field else ""
    programs.save_program(state_admin, org_tree["lea1"], programs.ProgramSettings("full"), seen="")
    before = saved_state(org_tree)
    response = client.post(PINE, form_data(stage="planning", seen=opened), follow=True)
    assert "changed these settings after you opened this page" in text_of(response)
    assert saved_state(org_tree) == before


@pytest.mark.parametrize(
    ("stage", "message"),
    [("", "Choose the district's stage."), ("launched", "Choose one of the stages listed.")],
)
def test_a_missing_or_unknown_stage_is_named(org_tree, lea_admin, stage, message):
    before = saved_state(org_tree)
    response = signed_in(lea_admin).post(PINE, form_data(stage=stage))
    assert response.status_code == 400 and message in text_of(response)
    assert saved_state(org_tree) == before
