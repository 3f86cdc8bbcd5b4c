"""Research exports: only researchers export; every dataset is de-identified (no direct
identifier in any cell, stable pseudonyms, months not dates), small cells suppressed, every
export audited and listed, streamed in chunks of a fixed number of queries."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from microcred.credentials import services as credentials
from microcred.earning.models import Attempt
from microcred.insights import research, surveys
from microcred.insights.models import SurveyInvitation
from microcred.orgs.models import AuditEvent, Organization, Role
from microcred.recognition.models import License
from tests.credentials.awards import *  # noqa: F403  (make_award, version and friends)

pytestmark = pytest.mark.django_db

INDEX = reverse("insights:research")
EXPORT = reverse("insights:research_export")
DICTIONARY = reverse("insights:research_dictionary")

# What must never leave in an export: the distinctive educator's identifiers and free text.
ZED = {
    "first_name": "Zebulon",
    "last_name": "Quixotesque",
    "display_name": "Zeb Q. the Teacher",
    "email": "zq-unique-7731@distinct.example",
}
LICENSE_NUMBER = "NC-LIC-99887766"
COMMENT = "Mrs Snodgrass at our school made this possible."


@pytest.fixture
def researcher(make_user, org_tree):
    return make_user(Role.RESEARCHER, org_tree["state"], first_name="Rhea", last_name="Search")


@pytest.fixture
def world(org_tree, version, make_earner, make_award):
    """Zed and eleven colleagues at Pine Elementary (a cell of 12 educators of Pine County
    with the coaching MC); two teachers at Oak Middle (a cell of 2, to suppress). Zed earned
    the MC (credential issued) and answered the after-award survey with a comment."""
    zed = make_earner(**ZED)
    License.objects.create(educator=zed, state=org_tree["state"], number=LICENSE_NUMBER)
    credential = credentials.issue_for_award(make_award(zed))
    surveys.invite_after_award(credential.pk)
    invitation = SurveyInvitation.objects.get(credential=credential)
    surveys.respond(zed, invitation, {1: 5, 2: 4, 3: 3, 4: None, 5: 4}, COMMENT)
    pine = [zed] + [
        make_earner(first_name=f"Pine{n}", last_name="Teacher", email=f"pine{n}@example.org")
        for n in range(11)
    ]
    for educator in pine[1:]:
        Attempt.objects.create(version=version, earner=educator, school=org_tree["school1"])
    oak = [
        make_earner(
            org_tree["school2"], first_name=f"Oak{n}", last_name="Teacher", email=f"oak{n}@x.org"
        )
        for n in range(2)
    ]
    for educator in oak:
        Attempt.objects.create(version=version, earner=educator, school=org_tree["school2"])
    return {"zed": zed, "pine": pine, "oak": oak, "credential": credential}


def download(client, dataset: str, **params: str) -> list[dict[str, str]]:
    response = client.get(EXPORT, {"dataset": dataset, **params})
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"microcred-research-{dataset}" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def all_exports(client) -> dict[str, list[dict[str, str]]]:
    return {name: download(client, name) for name in research.DATASETS}


# ---------------------------------------------------------------------------- de-identified
def test_no_direct_identifier_leaves_in_any_export(client, researcher, world, org_tree):
    client.force_login(researcher)
    exports = all_exports(client)
    assert {name: len(rows) > 0 for name, rows in exports.items()} == dict.fromkeys(
        research.DATASETS, True
    )
    forbidden = [
        *ZED.values(),
        "Zebulon",
        "Quixotesque",
        LICENSE_NUMBER,
        COMMENT,
        "Snodgrass",
        "Pine Elementary",
        "Oak Middle",
        "Pine County Schools",
        "Oak City Schools",
        str(world["credential"].uuid),
        *(e.email for e in world["pine"] + world["oak"]),
        *(e.last_name for e in world["pine"] + world["oak"]),
    ]
    user_pks = {str(e.pk) for e in world["pine"] + world["oak"]}
    for name, rows in exports.items():
        text = "\n".join(",".join(row.keys()) + "," + ",".join(row.values()) for row in rows)
        for needle in forbidden:
            assert needle.lower() not in text.lower(), f"{needle!r} in the {name} export"
        for row in rows:
            # No column holds an account number, and the educator id is a pseudonym.
            assert row["educator_id"] not in user_pks
            assert row["educator_id"].startswith("E") and len(row["educator_id"]) == 21
            for column in ("started_month", "submitted_month", "issued_month", "responded_month"):
                if row.get(column):
                    assert len(row[column]) == 7 and row[column][4] == "-"  # YYYY-MM, no day
        assert not {"user_id", "email", "name", "comment", "license"} & set(rows[0])


def test_the_same_educator_has_the_same_pseudonym_everywhere(client, researcher, world):
    client.force_login(researcher)
    first = all_exports(client)
    second = all_exports(client)
    assert first == second
    zed_id = research.pseudonym("educator", world["zed"].pk)
    for name in research.DATASETS:
        assert zed_id in {row["educator_id"] for row in first[name]}, name
    # Different people, different ids.
    ids = {row["educator_id"] for row in first["attempts"]}
    assert len(ids) == 14
    # The attempt id joins attempts, submissions and credentials.
    zed_attempts = {r["attempt_id"] for r in first["attempts"] if r["educator_id"] == zed_id}
    assert {r["attempt_id"] for r in first["submissions"]} == zed_attempts
    assert {r["attempt_id"] for r in first["credentials"]} == zed_attempts


def test_small_cells_hide_the_district(client, researcher, world, org_tree):
    client.force_login(researcher)
    rows = download(client, "attempts")
    pine_id = research.pseudonym("lea", org_tree["lea1"].pk)
    by_region = {(r["region"], r["lea"]) for r in rows}
    # Pine County: 12 educators with the MC, shown; Oak City: 2, suppressed. Oak City is the
    # only city district of the East, and the state's only city district that is not
    # low-wealth: its region, locale and status would name it, so they go too.
    assert by_region == {("West", pine_id), (research.SUPPRESSED, research.SUPPRESSED)}
    oak = [r for r in rows if r["lea"] == research.SUPPRESSED]
    assert len(oak) == 2
    assert {(r["region"], r["locale"], r["low_wealth"]) for r in oak} == {
        (research.SUPPRESSED,) * 3
    }
    pine = [r for r in rows if r["region"] == "West"]
    assert all(r["locale"] == "rural" and r["low_wealth"] == "yes" for r in pine)
    # Zed alone in the credentials and survey exports: a cell of one, suppressed.
    for dataset in ("credentials", "survey_answers", "submissions"):
        assert {r["lea"] for r in download(client, dataset)} == {research.SUPPRESSED}


def test_rows_say_what_happened(client, researcher, world):
    client.force_login(researcher)
    zed_id = research.pseudonym("educator", world["zed"].pk)
    (zed_attempt,) = [r for r in download(client, "attempts") if r["educator_id"] == zed_id]
    assert zed_attempt["status"] == "earned"
    assert zed_attempt["submissions"] == "1"
    assert zed_attempt["first_submission_outcome"] == "earned"
    assert zed_attempt["days_to_earn"] == "0" and zed_attempt["earned_month"]
    assert zed_attempt["team_size"] == "1"
    (survey,) = download(client, "survey_answers")
    assert survey["wave"] == "after_award"
    assert [survey[f"level_{n}"] for n in range(1, 6)] == ["5", "4", "3", "n/a", "4"]
    (credential,) = download(client, "credentials")
    assert credential["revoked"] == "no" and credential["revoked_month"] == ""


def test_a_micro_credential_filter_narrows_the_export(client, researcher, world, version):
    client.force_login(researcher)
    slug = version.micro_credential.slug
    assert len(download(client, "attempts", micro_credential=slug)) == 14
    event = AuditEvent.objects.filter(action=research.AUDIT_ACTION).first()
    assert event.data == {"dataset": "attempts", "rows": 14, "filters": {"micro_credential": slug}}


# ---------------------------------------------------------------------------- who may
@pytest.mark.parametrize(
    ("role", "where"),
    [
        (Role.EARNER, "school1"),
        (Role.PRINCIPAL, "school1"),
        (Role.PROGRAM_ADMIN, "lea1"),
        (Role.PROGRAM_ADMIN, "state"),
        (Role.COACH, "school1"),
    ],
)
def test_other_roles_get_403_and_nothing_is_written(
    client, make_user, org_tree, world, role, where
):
    client.force_login(make_user(role, org_tree[where]))
    for url, params in ((INDEX, {}), (EXPORT, {"dataset": "attempts"}), (DICTIONARY, {})):
        response = client.get(url, params)
        assert response.status_code == 403
        assert "Research exports are for researchers" in response.content.decode()
    assert not AuditEvent.objects.filter(action=research.AUDIT_ACTION).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (INDEX, EXPORT, DICTIONARY):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Choose a dataset to download."),
        ({"dataset": "educators"}, "Choose one of the datasets listed."),
        ({"dataset": "attempts", "micro_credential": "nope"}, "Choose one of the listed"),
    ],
)
def test_a_bad_request_exports_nothing_and_says_why(client, researcher, params, message):
    client.force_login(researcher)
    response = client.get(EXPORT, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action=research.AUDIT_ACTION).exists()


def test_a_researcher_of_another_state_sees_none_of_these_rows(client, make_user, world):
    other = Organization.objects.create(
        kind=Organization.Kind.STATE_AGENCY, name="Other State", slug="other-state"
    )
    client.force_login(make_user(Role.RESEARCHER, other))
    for name in research.DATASETS:
        assert download(client, name) == []


# ---------------------------------------------------------------------------- audit, page
def test_every_export_is_audited_and_listed(client, researcher, world, org_tree):
    client.force_login(researcher)
    download(client, "attempts")
    download(client, "survey_answers")
    events = list(AuditEvent.objects.filter(action=research.AUDIT_ACTION).order_by("pk"))
    assert [(e.actor, e.data["dataset"], e.data["rows"]) for e in events] == [
        (researcher, "attempts", 14),
        (researcher, "survey_answers", 1),
    ]
    assert all(e.organization == org_tree["state"] for e in events)
    response = client.get(INDEX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your last 2 downloads" in body
    assert "Survey answers (Guskey levels)" in body
    # Counts under k read "<10" on the page.
    assert [rows for _, rows in response.context["datasets"]] == ["14", "<10", "<10", "<10"]


def test_the_dictionary_names_every_column_and_the_rule(client, researcher):
    client.force_login(researcher)
    body = client.get(DICTIONARY).content.decode()
    for dataset in research.DATASETS.values():
        for column in dataset.columns:
            assert f"<code>{column.name}</code>" in body
    assert "k = 10" in body and "fewer than 10 distinct educators" in body
    assert "Comments are never exported" in body
    response = client.get(DICTIONARY, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == research.DICTIONARY_HEADER
    assert len(rows) - 1 == sum(len(d.columns) for d in research.DATASETS.values())
    # Every exported header is in the dictionary.
    listed = {(r[0], r[1]) for r in rows[1:]}
    for dataset in research.DATASETS.values():
        assert {(dataset.name, c) for c in dataset.header} <= listed


# ---------------------------------------------------------------------------- streaming
def test_chunks_give_the_same_rows_in_a_fixed_number_of_queries(
    client, researcher, world, monkeypatch, version, org_tree
):
    client.force_login(researcher)
    whole = download(client, "attempts")
    monkeypatch.setattr(research, "CHUNK", 5)
    assert download(client, "attempts") == whole

    def queries_for(dataset: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            download(client, dataset)
        return len(queries)

    monkeypatch.setattr(research, "CHUNK", 1000)
    before = {name: queries_for(name) for name in research.DATASETS}
    for n in range(10):
        Attempt.objects.create(
            version=version, earner=world["pine"][n % 12], school=org_tree["school1"]
        )
    assert {name: queries_for(name) for name in research.DATASETS} == before


def test_geography_is_suppressed_only_as_far_as_it_must_be():
    """A small district whose region and profile cover enough educators keeps its region; one
    whose region would name it keeps only locale and low-wealth status while those are many."""
    mc = 7
    cells = research.Cells(
        by_district={(1, mc): 3, (2, mc): 8, (3, mc): 4, (4, mc): 40},
        by_region={("North", "rural", True, mc): 11, ("South", "rural", True, mc): 4},
        by_profile={("rural", True, mc): 15, ("city", False, mc): 40},
    )

    def row(lea: int, region: str, locale: str = "rural", low_wealth: bool = True) -> dict:
        return {
            "d": lea,
            "d__region": region,
            "d__locale": locale,
            "d__low_wealth": low_wealth,
        }

    assert cells.hidden(row(4, "East", "city", False), "d", mc) == 0
    assert cells.hidden(row(1, "North"), "d", mc) == 1
    assert cells.hidden(row(3, "South"), "d", mc) == 2
    assert cells.hidden(row(2, "West", "town", False), "d", mc) == 3
    shown = research._geo_cells(row(3, "South"), "d", 2)
    assert shown == [research.SUPPRESSED, research.SUPPRESSED, "rural", "yes"]
