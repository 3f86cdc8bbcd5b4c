"""Program reports: figures checked against a small program worked out by hand
(tests/insights/reports_world.py), every breakdown, the filters, empty data, who may read
what, the CSV and its audit, and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from microcred.catalog.models import StackMember
from microcred.insights import reports
from microcred.orgs.models import AuditEvent, Organization, Role
from tests.assessment.conftest import version  # noqa: F401  (the coaching MC fixture)
from tests.catalog.factories import catalog_people, publish_stack
from tests.insights import reports_world as world

pytestmark = pytest.mark.django_db

URL = reverse("insights:reports")
CSV_URL = reverse("insights:reports_csv")


@pytest.fixture
def phonics(org_tree, make_user):
    return catalog_people(org_tree, make_user).publish(title="Phonics routines")


@pytest.fixture
def people(org_tree, make_user, version, phonics):  # noqa: F811
    return world.build(org_tree, make_user, version, phonics)


@pytest.fixture
def state_admin(make_user, org_tree):
    return make_user(Role.PROGRAM_ADMIN, org_tree["state"])


@pytest.fixture
def pine_admin(make_user, org_tree):
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])


@pytest.fixture
def researcher(make_user, org_tree):
    return make_user(Role.RESEARCHER, org_tree["state"])


def report_of(org_tree, group: str, *, lea=None, **options) -> reports.Report:
    filters = reports.ReportFilters(
        breakdown=reports.BREAKDOWNS[group],
        lea=lea,
        leas_of_state=None if lea else (org_tree["lea1"].pk, org_tree["lea2"].pk),
        **options,
    )
    return reports.build_report(filters)


def by_label(report: reports.Report) -> dict[str, reports.ReportRow]:
    return {row.label: row for row in report.rows}


# ---------------------------------------------------------------------------- figures
def test_figures_by_micro_credential_match_the_hand_count(org_tree, people, version, phonics):  # noqa: F811
    report = report_of(org_tree, "mc")
    rows = by_label(report)
    assert list(rows) == ["Collaborative Leadership Coaching", "Phonics routines"] or set(rows) == {
        version.title,
        "Phonics routines",
    }
    coaching, reading = rows[version.title], rows["Phonics routines"]

    assert (coaching.educators, coaching.earners_started, coaching.attempts) == (6, 3, 3)
    assert coaching.uptake == 50.0
    assert (coaching.first_decided, coaching.first_passed, coaching.first_pass_rate) == (3, 1, 33.3)
    assert (coaching.later_decided, coaching.later_passed, coaching.later_pass_rate) == (
        1,
        1,
        100.0,
    )
    assert (coaching.later_submissions, coaching.resubmission_rate) == (1, 33.3)
    assert coaching.earned == 2
    assert (coaching.earn_median, coaching.earn_p90) == (8.0, 12.0)
    assert (coaching.turnaround_median, coaching.turnaround_p90) == (3.0, 6.0)

    # Submitted but not decided: nothing to divide by, so no rate (and no error).
    assert (reading.attempts, reading.earners_started, reading.uptake) == (2, 2, 33.3)
    assert (reading.first_submissions, reading.first_decided) == (1, 0)
    assert reading.first_pass_rate is None and reading.later_pass_rate is None
    assert reading.resubmission_rate == 0.0
    assert reading.earn_median is None and reading.turnaround_p90 is None

    total = report.total
    # Ada started two attempts: the educators who started are counted once.
    assert (total.educators, total.earners_started, total.attempts, total.uptake) == (6, 4, 5, 66.7)
    assert (total.first_pass_rate, total.later_pass_rate) == (33.3, 100.0)
    assert (total.turnaround_median, total.turnaround_p90) == (3.0, 6.0)
    assert (total.earn_median, total.earn_p90) == (8.0, 12.0)


def test_figures_by_district_region_locale_and_low_wealth(org_tree, people):
    pine = by_label(report_of(org_tree, "lea"))["Pine County Schools"]
    oak = by_label(report_of(org_tree, "lea"))["Oak City Schools"]
    assert (pine.educators, pine.earners_started, pine.uptake) == (4, 3, 75.0)
    assert (pine.first_decided, pine.first_passed, pine.first_pass_rate) == (2, 1, 50.0)
    assert (pine.turnaround_median, pine.turnaround_p90) == (3.0, 4.0)
    assert (oak.educators, oak.earners_started, oak.uptake) == (2, 1, 50.0)
    assert (oak.first_pass_rate, oak.later_pass_rate) == (0.0, None)
    assert (oak.turnaround_median, oak.turnaround_p90) == (6.0, 6.0)

    assert set(by_label(report_of(org_tree, "region"))) == {"West", "East"}
    assert by_label(report_of(org_tree, "region"))["West"].uptake == 75.0
    locale = by_label(report_of(org_tree, "locale"))
    assert (locale["Rural"].attempts, locale["City"].attempts) == (4, 1)
    wealth = by_label(report_of(org_tree, "low_wealth"))
    assert (wealth["Low-wealth"].uptake, wealth["Not low-wealth"].uptake) == (75.0, 50.0)


def test_by_stack_counts_an_mc_in_each_of_its_stacks(org_tree, make_user, people, version):  # noqa: F811
    people_of_catalog = catalog_people(org_tree, make_user)
    math_talk = people_of_catalog.publish(title="Math talk")
    stack = publish_stack(
        org_tree["provider"],
        people_of_catalog.author,
        [(version.micro_credential, True), (math_talk.micro_credential, True)],
    )
    report = report_of(org_tree, "stack")
    rows = by_label(report)
    assert rows[stack.title].attempts == 3 and rows[stack.title].first_pass_rate == 33.3
    assert rows["Not in a stack"].attempts == 2
    assert StackMember.objects.filter(stack=stack).count() == 2
    assert report.notes


def test_one_district_and_the_filters(org_tree, people, phonics):
    pine = report_of(org_tree, "mc", lea=org_tree["lea1"])
    assert pine.total.attempts == 4 and pine.total.educators == 4
    only_phonics = report_of(org_tree, "mc", micro_credential=phonics.micro_credential)
    assert only_phonics.total.attempts == 2
    assert [r.label for r in only_phonics.rows] == ["Phonics routines"]
    late = report_of(org_tree, "mc", starts_from=world.at(10))
    assert late.total.attempts == 1 and late.total.first_submissions == 0
    early = report_of(org_tree, "mc", starts_before=world.at(0.75))
    assert early.total.attempts == 3 and early.total.earn_median == 8.0


def test_empty_data_gives_no_rates_and_no_errors(org_tree, make_user):
    make_user(Role.EARNER, org_tree["school1"])
    report = report_of(org_tree, "lea")
    assert report.empty
    total = report.total
    assert total.educators == 1 and total.uptake == 0.0
    for attribute in ("first_pass_rate", "later_pass_rate", "resubmission_rate", "earn_median"):
        assert getattr(total, attribute) is None
    assert report_of(org_tree, "mc").rows == []
    nobody = report_of(org_tree, "region", lea=org_tree["lea2"])
    assert nobody.total.uptake is None  # no educators at all: no denominator


# ---------------------------------------------------------------------------- the page
def test_state_admin_reads_the_state_by_district_with_charts_and_tables(
    client, state_admin, people
):
    client.force_login(state_admin)
    response = client.get(URL, {"group": "lea"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Program reports: State DPI" in html
    assert 'data-chart="chart-pass"' in html and 'id="chart-pass" type="application/json"' in html
    assert "Pine County Schools" in html and "75.0%" in html
    assert "<script>" not in html  # strict CSP: every script from a static file
    specs = {c["id"]: c["spec"] for c in response.context["charts"]}
    assert specs["chart-uptake"]["labels"] == ["Oak City Schools", "Pine County Schools"]
    assert specs["chart-uptake"]["datasets"][0]["data"] == [50.0, 75.0]
    assert specs["chart-pass"]["datasets"][1]["data"] == [None, 100.0]
    assert specs["chart-earn"]["unit"] == "days"


def test_state_admin_picks_a_district(client, state_admin, people, org_tree):
    client.force_login(state_admin)
    response = client.get(URL, {"lea": org_tree["lea2"].pk, "group": "mc"})
    assert response.status_code == 200
    assert response.context["report"].total.attempts == 1
    assert "Program reports: Oak City Schools" in response.content.decode()


def test_district_admin_sees_only_their_district(client, pine_admin, people, org_tree):
    client.force_login(pine_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["report"].total.attempts == 4
    assert response.context["lea"] == org_tree["lea1"]
    other = client.get(URL, {"lea": org_tree["lea2"].pk})
    assert other.status_code == 404
    assert client.get(URL, {"lea": "nonsense"}).status_code == 404
    # Comparing districts is the state's: a district admin cannot ask for it.
    refused = client.get(URL, {"group": "lea"})
    assert refused.status_code == 400
    assert "Choose one of the listed ways to group" in refused.content.decode()
    assert client.get(CSV_URL, {"lea": org_tree["lea2"].pk}).status_code == 404


def test_a_researcher_reads_the_state_reports(client, researcher, people):
    client.force_login(researcher)
    response = client.get(URL, {"group": "locale"})
    assert response.status_code == 200
    assert response.context["report"].total.attempts == 5


@pytest.mark.parametrize("role, org", [(Role.EARNER, "school1"), (Role.PRINCIPAL, "school1")])
def test_others_are_refused_with_a_plain_message(client, make_user, org_tree, role, org):
    client.force_login(make_user(role, org_tree[org]))
    response = client.get(URL)
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()
    assert client.get(CSV_URL).status_code == 403


def test_signed_out_visitors_go_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_bad_choices_change_nothing_and_say_what_is_wrong(client, state_admin, people):
    client.force_login(state_admin)
    response = client.get(
        URL, {"group": "lea", "started_from": "2026-05-01", "started_to": "2026-04-01"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The last day comes before the first" in html
    assert response.context["report"].total.attempts == 5  # the unfiltered report
    assert client.get(URL, {"mc": "999999"}).status_code == 400
    assert client.get(URL, {"started_from": "yesterday"}).status_code == 400
    before = AuditEvent.objects.count()
    assert client.get(CSV_URL, {"started_from": "yesterday"}).status_code == 400
    assert AuditEvent.objects.count() == before


def test_empty_period_says_so(client, state_admin, people):
    client.force_login(state_admin)
    response = client.get(URL, {"started_from": "2030-01-01"})
    assert response.status_code == 200
    assert "No attempts started in this period yet" in response.content.decode()


def test_attempts_without_submissions_say_no_submissions_yet(client, state_admin, people):
    client.force_login(state_admin)
    late = (world.T0 + timedelta(days=10)).date().isoformat()
    response = client.get(URL, {"started_from": late})
    html = response.content.decode()
    assert "No submissions in this period yet" in html
    assert "no figure" in html  # the dash has words for screen readers


# ---------------------------------------------------------------------------- CSV
def test_csv_has_the_table_and_is_audited(client, pine_admin, people, org_tree, version):  # noqa: F811
    client.force_login(pine_admin)
    response = client.get(CSV_URL, {"group": "mc"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Micro-credential" and "Pass rate, first submission (%)" in rows[0]
    column = rows[0].index("Pass rate, first submission (%)")
    coaching = next(r for r in rows if r[0] == version.title)
    assert coaching[column] == "50.0"
    reading = next(r for r in rows if r[0] == "Phonics routines")
    assert reading[column] == ""  # no figure: an empty cell, never a zero
    assert rows[-1][0] == "All (total)"
    event = AuditEvent.objects.get(action="insights.program_report_exported")
    assert event.actor == pine_admin and event.organization == org_tree["lea1"]
    assert event.data["rows"] == 3 and event.data["group"] == "mc"


# ---------------------------------------------------------------------------- speed
def test_a_report_is_reused_until_something_is_added(client, state_admin, people, org_tree):
    client.force_login(state_admin)
    with CaptureQueriesContext(connection) as first:
        assert client.get(URL, {"group": "lea"}).status_code == 200
    with CaptureQueriesContext(connection) as again:
        response = client.get(URL, {"group": "lea"})
    assert len(again) < len(first) - 5  # no counting: the data version and the cache only
    assert response.context["report"].total.first_decided == 3
    # Oak's waiting submission is decided: the next request counts afresh.
    cal = world.submit(
        world.attempt(people["ada"].attempts.first().version, people["pat"], org_tree["school2"]),
        1,
        2,
    )
    world.decide(cal, "earned", 4)
    # The kept copy is served at once and the worker recounts it (here, the immediate task
    # backend, before the response); the next visit has the new figures.
    stale = client.get(URL, {"group": "lea"})
    assert stale.context["report"].total.first_decided == 3
    response = client.get(URL, {"group": "lea"})
    assert response.context["report"].total.first_decided == 4
    assert response.context["report"].total.attempts == 6


def test_a_copy_too_old_is_recounted_while_the_visitor_waits(client, state_admin, people, org_tree):
    client.force_login(state_admin)
    first = client.get(URL, {"group": "lea"}).context["report"]
    # Age the kept copy past STALE_SECONDS.
    key = reports._cache_key(reports.filters_spec(first.filters))
    kept = cache.get(key)
    kept.report.computed_at -= timedelta(seconds=reports.STALE_SECONDS + 1)
    cache.set(key, kept)
    world.decide(
        world.submit(
            world.attempt(
                people["ada"].attempts.first().version, people["pat"], org_tree["school2"]
            ),
            1,
            2,
        ),
        "earned",
        4,
    )
    fresh = client.get(URL, {"group": "lea"}).context["report"]
    assert fresh.total.first_decided == first.total.first_decided + 1


def test_the_warm_command_counts_every_state_and_district_report(state_admin, people):
    out = StringIO()
    call_command("warm_program_reports", stdout=out)
    leas = Organization.objects.filter(kind=Organization.Kind.LEA, active=True).count()
    assert out.getvalue().startswith(f"{len(reports.BREAKDOWNS) + leas} reports counted")


@pytest.mark.parametrize("group", list(reports.BREAKDOWNS))
def test_query_count_does_not_grow_with_the_data(
    client,
    state_admin,
    people,
    org_tree,
    version,  # noqa: F811
    phonics,
    group,
    django_assert_max_num_queries,
):
    """About ten for the report (grouped figures, totals, two day counts, educators, names,
    the survey results), a few for the data version and the cache; the rest is the session,
    the viewer's roles and the site's layout."""
    client.force_login(state_admin)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"group": group}).status_code == 200
    # Three times as many attempts, submissions and decisions: the same queries.
    for n in range(10):
        earner = people["dot"] if n % 2 else people["pat"]
        school = org_tree["school1"] if n % 2 else org_tree["school2"]
        made = world.attempt(version if n % 3 else phonics, earner, school, day=n)
        world.decide(world.submit(made, 1, n + 1), "earned", n + 3)
    cache.clear()  # count afresh, as the first request did
    with django_assert_max_num_queries(len(few)):
        assert client.get(URL, {"group": group}).status_code == 200
    assert len(few) <= 32


def test_the_report_carries_the_survey_results_of_its_scope(client, pine_admin, people):
    client.force_login(pine_admin)
    response = client.get(URL, {"group": "mc"})
    levels = response.context["survey_levels"]
    assert len(levels) == 10  # five levels, after award and follow-up
    assert {s.explanation for s in levels} == {"No answers yet."}
    page = response.content.decode()
    assert "What earners say: Guskey's five levels" in page
    assert 'data-chart="survey-levels-chart"' in page
