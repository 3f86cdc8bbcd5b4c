"""Assessor pay: the monthly payable report per assessor and per funding organization, minutes
per score, months in the site's time zone, the CSV files, and who may see what.

Every read here is assigned and scored through the real services; the clock is set so that
scores land in the months the tests need."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from microcred.assessment import calibration, pay, services
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    Score,
    ScoringPolicy,
)
from microcred.assessment.pay import Month
from microcred.catalog.models import MicroCredentialVersion
from microcred.earning import services as earning
from microcred.earning.models import Submission
from microcred.orgs.models import Organization, Role, User
from microcred.web.spreadsheets import safe_cell
from tests.assessment.helpers import fill_portfolio, qualify_for, score_at, set_policy
from tests.catalog.factories import catalog_people

pytestmark = pytest.mark.django_db
SITE = ZoneInfo("America/New_York")
NOVEMBER = Month(2026, 11)
# Mid-November in the site's time zone: where most reads here are scored.
MID_NOVEMBER = datetime(2026, 11, 16, 10, 0, tzinfo=SITE)


@pytest.fixture(autouse=True)
def _site_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"


class Clock:
    """The time every service reads (timezone.now, and so each score's submitted_at)."""

    def __init__(self) -> None:
        self.now = MID_NOVEMBER

    def at(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def policy(version) -> ScoringPolicy:
    """The coaching MC's policy: single reads and no anchors mixed in, so every read counted is
    one the test scored; calibration sets of one anchor allowed."""
    return set_policy(version, anchor_percent=0, calibration_min_anchors=1)


@pytest.fixture
def assessor(make_assessor) -> Callable[..., AssessorProfile]:
    """assessor(first_name, **pay): an assessor with room for every read of the test."""

    def make(first_name: str = "Asa", **fields: Any) -> AssessorProfile:
        profile = make_assessor(weekly_capacity=100, **fields)
        User.objects.filter(pk=profile.user_id).update(first_name=first_name)
        profile.user.refresh_from_db()
        return profile

    return make


def submission_of(version: MicroCredentialVersion, earner: User) -> Submission:
    attempt, _ = earning.start_attempt(version, user=earner)
    fill_portfolio(attempt, earner)
    return earning.submit(attempt, user=earner)


def score(assignment: Assignment, minutes: int) -> Score:
    services.start_scoring(assignment, assessor=assignment.assessor.user)
    return score_at(
        assignment, 17, overall_feedback="Specific, well-evidenced coaching.", minutes_spent=minutes
    )


@pytest.fixture
def live_read(make_earner, version) -> Callable[..., Score]:
    """live_read(profile, minutes, version=coaching): a new submission, assigned by the
    planner to this assessor (the only active one) and scored."""

    def read(
        profile: AssessorProfile, minutes: int, of: MicroCredentialVersion | None = None
    ) -> Score:
        AssessorProfile.objects.exclude(pk=profile.pk).update(active=False)
        AssessorProfile.objects.filter(pk=profile.pk).update(active=True)
        assignment = services.assign(submission_of(of or version, make_earner()))
        assert assignment is not None and assignment.assessor_id == profile.pk
        return score(assignment, minutes)

    return read


def row_of(report: pay.PayReport, profile: AssessorProfile) -> pay.AssessorPay:
    (row,) = [r for r in report.assessors if r.assessor_id == profile.pk]
    return row


# ---------------------------------------------------------------------------- amounts
def test_amounts_are_to_the_cent_across_rates_and_fees(clock, policy, assessor, live_read):
    hourly = assessor("Hana", pay_rate=Decimal("17.50"))
    cheap = assessor("Carl", pay_rate=Decimal("15.00"))
    flat = assessor("Fay", pay_rate=Decimal("20.00"), fee_per_submission=Decimal("42.50"))
    # 35 minutes at $17.50 is $10.2083 -> $10.21; three 1-minute reads are $0.29 each, so
    # $0.87 where pricing the 3 minutes together would give $0.88: pay is per frozen read.
    for minutes in (35, 1, 1, 1):
        live_read(hourly, minutes)
    live_read(cheap, 7)  # $1.75
    live_read(flat, 90)  # the fee, whatever the minutes
    live_read(flat, 5)

    report = pay.pay_report(NOVEMBER)

    assert [(r.name, r.reads, r.minutes, r.hours, r.amount) for r in report.assessors] == [
        ("Carl Sessor", 1, 7, Decimal("0.12"), Decimal("1.75")),
        ("Fay Sessor", 2, 95, Decimal("1.58"), Decimal("85.00")),
        ("Hana Sessor", 4, 38, Decimal("0.63"), Decimal("11.08")),
    ]
    assert report.totals.reads == 7
    assert report.totals.minutes == 140
    assert report.totals.amount == Decimal("97.83")
    assert sum((f.amount for f in report.funders), Decimal(0)) == Decimal("97.83")


def test_a_new_rate_never_changes_a_past_month(clock, policy, assessor, live_read):
    hana = assessor("Hana", pay_rate=Decimal("17.50"))
    live_read(hana, 60)
    hana.pay_rate = Decimal("20.00")
    hana.save()
    clock.at(MID_NOVEMBER + timedelta(days=30))
    live_read(hana, 60)

    assert row_of(pay.pay_report(NOVEMBER), hana).amount == Decimal("17.50")
    assert row_of(pay.pay_report(NOVEMBER.next()), hana).amount == Decimal("20.00")


def test_reads_are_counted_by_purpose(clock, policy, assessor, live_read, anchor_set, lead):
    hana = assessor("Hana", pay_rate=Decimal("18.00"))
    live_read(hana, 30)
    # A calibration round on a one-anchor set, scored on the ordinary path.
    rounds_anchor = anchor_set((17,)).anchors.get()
    calibration_round = calibration.start_round(hana, rounds_anchor.calibration_set, actor=lead)
    score(calibration_round.assignments.get(), 20)
    # A drift check, written as the planner slips one among live work (planning.mix_anchors).
    drift_anchor = anchor_set((17,)).anchors.get()
    drift = Assignment.objects.create(
        submission=drift_anchor.submission,
        assessor=hana,
        purpose=Assignment.Purpose.DRIFT_CHECK,
        anchor=drift_anchor,
        due_at=MID_NOVEMBER + timedelta(days=14),
    )
    score(drift, 10)

    row = row_of(pay.pay_report(NOVEMBER), hana)
    assert (row.live, row.calibration, row.drift_check, row.reads) == (1, 1, 1, 3)
    assert (row.minutes, row.amount) == (60, Decimal("18.00"))

    # The assessor's own figures never reveal which of their "live" reads was an anchor.
    own = pay.own_pay(hana, NOVEMBER)
    assert (own.live, own.calibration, own.drift_check) == (2, 1, 0)
    assert own.amount == Decimal("18.00")


# ---------------------------------------------------------------------------- months
def test_months_follow_the_site_time_zone(clock, policy, assessor, live_read):
    hana = assessor("Hana", pay_rate=Decimal("60.00"))  # a dollar a minute: easy to tell apart
    for local, minutes in [
        (datetime(2026, 10, 31, 23, 59, tzinfo=SITE), 1),  # 03:59 UTC on November 1
        (datetime(2026, 11, 1, 0, 0, tzinfo=SITE), 2),
        (datetime(2026, 11, 30, 23, 30, tzinfo=SITE), 4),  # 04:30 UTC on December 1
        (datetime(2026, 12, 1, 0, 0, tzinfo=SITE), 8),
    ]:
        clock.at(local.astimezone(UTC))
        live_read(hana, minutes)

    minutes_in = {m: pay.pay_report(m).totals.minutes for m in (Month(2026, 10), NOVEMBER)}
    assert minutes_in == {Month(2026, 10): 1, NOVEMBER: 2 + 4}
    assert pay.pay_report(Month(2026, 12)).totals.amount == Decimal("8.00")
    history = pay.own_history(hana, Month(2026, 12))
    assert [(h.month, h.totals.minutes) for h in history] == [
        (Month(2026, 12), 8),
        (NOVEMBER, 6),
        (Month(2026, 10), 1),
    ]


def test_the_default_month_is_the_last_full_one_in_the_site_time_zone():
    # 22:00 on November 30 in New York is already December in UTC.
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert pay.parse_month(None, now) == (Month(2026, 10), "")
    assert pay.parse_month("", now) == (Month(2026, 10), "")
    assert pay.last_full_month(datetime(2027, 1, 15, tzinfo=UTC)) == Month(2026, 12)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "Nov 2026", "2026/11", "1999-05", "26-11"])
def test_a_bad_month_falls_back_with_a_plain_message(text):
    now = datetime(2026, 12, 15, tzinfo=UTC)
    month, problem = pay.parse_month(text, now)
    assert month == NOVEMBER
    assert problem == (
        f"“{text}” is not a month we can show. Enter the year and month as digits, like "
        "2026-11. Showing November 2026 instead."
    )


@pytest.mark.parametrize(("text", "month"), [("2026-11", NOVEMBER), (" 2027-3 ", Month(2027, 3))])
def test_a_good_month_is_read(text, month):
    assert pay.parse_month(text, datetime(2026, 12, 15, tzinfo=UTC)) == (month, "")


def test_months_step_across_years():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=SITE)


# ---------------------------------------------------------------------------- funders
def test_reads_are_grouped_by_the_funder_frozen_with_each_score(
    clock, policy, assessor, live_read, org_tree
):
    hana = assessor("Hana", pay_rate=Decimal("30.00"))
    live_read(hana, 10)  # no funder named: the state program pays
    policy.funding_organization = org_tree["lea1"]
    policy.save()
    live_read(hana, 20)
    live_read(hana, 30)
    policy.funding_organization = org_tree["state"]
    policy.save()
    live_read(hana, 40)  # the state agency named outright: the same budget line as the default

    funders = pay.pay_report(NOVEMBER).funders

    assert [(f.organization_id, f.name, f.reads, f.minutes, f.amount) for f in funders] == [
        (org_tree["lea1"].pk, "Pine County Schools", 2, 50, Decimal("25.00")),
        (org_tree["state"].pk, "State DPI", 2, 50, Decimal("25.00")),
    ]


# ---------------------------------------------------------------------------- minutes per MC
def test_minutes_per_score_mean_and_median_per_micro_credential(
    clock, policy, assessor, live_read, org_tree, make_user
):
    phonics = catalog_people(org_tree, make_user).publish(title="Phonics routines")
    set_policy(phonics, anchor_percent=0)
    hana = assessor("Hana")
    qualify_for(hana, phonics.micro_credential)
    for minutes in (10, 60, 20, 30):  # an even count: the median is the mean of 20 and 30
        live_read(hana, minutes)
    for minutes in (50, 7, 9):
        live_read(hana, minutes, of=phonics)

    rows = pay.pay_report(NOVEMBER).minutes_per_mc

    assert [(r.title, r.reads, r.mean, r.median) for r in rows] == [
        ("Collaborative Leadership Coaching", 4, Decimal("30.0"), Decimal("25.0")),
        ("Phonics routines", 3, Decimal("22.0"), Decimal("9.0")),
    ]


def test_an_empty_month_reports_nothing(clock, policy, assessor, live_read):
    live_read(assessor("Hana"), 10)
    report = pay.pay_report(Month(2026, 9))
    assert (report.assessors, report.funders, report.minutes_per_mc) == ([], [], [])
    assert report.totals.amount == Decimal("0.00")


def test_the_report_costs_the_same_queries_for_one_assessor_or_many(
    clock, policy, assessor, live_read, org_tree
):
    live_read(assessor("Hana"), 10)
    with CaptureQueriesContext(connection) as one:
        pay.pay_report(NOVEMBER)
    policy.funding_organization = org_tree["lea2"]
    policy.save()
    for name in ("Ida", "Jo", "Kai"):
        profile = assessor(name)
        live_read(profile, 12)
        live_read(profile, 14)
    with CaptureQueriesContext(connection) as many:
        report = pay.pay_report(NOVEMBER)

    assert len(report.assessors) == 4 and len(report.funders) == 2
    assert len(many) == len(one) <= 6


# ---------------------------------------------------------------------------- CSV
@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"])
def test_cells_that_look_like_formulas_are_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Ana Lopez", "a=b", 12, Decimal("10.50")])
def test_other_cells_are_left_alone(value):
    assert safe_cell(value) == str(value)


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_by_assessor_has_one_row_each_and_no_formula(
    client, clock, policy, assessor, live_read, lead
):
    evil = assessor('=HYPERLINK("http://x")', pay_rate=Decimal("18.00"))
    live_read(evil, 30)
    live_read(evil, 30)
    live_read(assessor("Bo", fee_per_submission=Decimal("25.00")), 45)
    client.force_login(lead)

    response = client.get(
        reverse("assessment:pay"), {"month": "2026-11", "format": "csv", "by": "assessor"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="microcred-pay-by-assessor-2026-11.csv"'
    )
    header, *rows = _csv(response)
    assert header == [
        "Month",
        "Assessor",
        "Email",
        "Live reads",
        "Calibration reads",
        "Drift check reads",
        "All reads",
        "Minutes",
        "Hours",
        "Amount (USD)",
    ]
    assert rows == [
        [
            "2026-11",
            '\'=HYPERLINK("http://x") Sessor',
            evil.user.email,
            "2",
            "0",
            "0",
            "2",
            "60",
            "1.00",
            "18.00",
        ],
        ["2026-11", "Bo Sessor", rows[1][2], "1", "0", "0", "1", "45", "0.75", "25.00"],
    ]


def test_csv_by_funder_has_one_row_each_and_no_formula(
    client, clock, policy, assessor, live_read, lead
):
    evil = Organization.objects.create(
        kind=Organization.Kind.ASSESSMENT_ORG, name="@SUM(1+1)", slug="evil"
    )
    hana = assessor("Hana", pay_rate=Decimal("15.00"))
    live_read(hana, 20)
    policy.funding_organization = evil
    policy.save()
    live_read(hana, 40)
    client.force_login(lead)

    response = client.get(
        reverse("assessment:pay"), {"month": "2026-11", "format": "csv", "by": "funder"}
    )

    assert response["Content-Disposition"] == (
        'attachment; filename="microcred-pay-by-funder-2026-11.csv"'
    )
    assert _csv(response) == [
        ["Month", "Funding organization", "Reads", "Minutes", "Hours", "Amount (USD)"],
        ["2026-11", "'@SUM(1+1)", "1", "40", "0.67", "10.00"],
        ["2026-11", "State DPI", "1", "20", "0.33", "5.00"],
    ]


def test_csv_refuses_a_bad_month_and_an_unknown_table(client, lead):
    client.force_login(lead)
    url = reverse("assessment:pay")
    bad_month = client.get(url, {"month": "2026-13", "format": "csv", "by": "funder"})
    assert bad_month.status_code == 400
    assert "“2026-13” is not a month we can show" in bad_month.content.decode()
    assert client.get(url, {"format": "csv", "by": "earner"}).status_code == 404


# ---------------------------------------------------------------------------- pages
def test_the_report_page_shows_both_tables_and_totals(
    client, clock, policy, assessor, live_read, lead
):
    live_read(assessor("Hana", pay_rate=Decimal("18.00")), 50)
    live_read(assessor("Ivo", fee_per_submission=Decimal("1234.00")), 20)
    client.force_login(lead)

    html = client.get(reverse("assessment:pay"), {"month": "2026-11"}).content.decode()

    assert "Assessor pay: November 2026" in html
    assert "<caption>Pay by assessor, November 2026: 2 assessors</caption>" in html
    assert "<caption>Pay by funding organization, November 2026</caption>" in html
    assert "Minutes per score by micro-credential" in html
    assert "$15.00" in html and "$1,234.00" in html and "$1,249.00" in html
    assert "format=csv&amp;by=assessor" in html and "format=csv&amp;by=funder" in html


def test_the_report_page_defaults_to_last_month_with_a_message_on_a_bad_month(client, clock, lead):
    client.force_login(lead)
    response = client.get(reverse("assessment:pay"), {"month": "2026-99"})
    html = response.content.decode()
    assert response.status_code == 200
    # The clock stands in mid-November 2026: the last full month is October.
    assert "Assessor pay: October 2026" in html
    assert "“2026-99” is not a month we can show" in html
    assert "No reads were scored in October 2026" in html


@pytest.mark.parametrize("who", ["lead", "state_admin"])
def test_scoring_leads_and_state_admins_see_the_report(client, who, lead, make_user, org_tree):
    viewer = lead if who == "lead" else make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    client.force_login(viewer)
    assert client.get(reverse("assessment:pay")).status_code == 200


@pytest.mark.parametrize("who", ["assessor", "earner", "district_admin"])
def test_others_cannot_see_the_report(client, who, assessor, make_earner, make_user, org_tree):
    people: dict[str, Callable[[], User]] = {
        "assessor": lambda: assessor().user,
        "earner": make_earner,
        "district_admin": lambda: make_user(Role.PROGRAM_ADMIN, org_tree["lea1"]),
    }
    client.force_login(people[who]())
    url = reverse("assessment:pay")
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "csv", "by": "assessor"}).status_code == 403


def test_pay_pages_need_sign_in(client):
    for name in ("assessment:pay", "assessment:my_pay"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_an_assessor_sees_only_their_own_pay(client, clock, policy, assessor, live_read):
    hana = assessor("Hana", pay_rate=Decimal("18.00"))
    ivo = assessor("Ivo", pay_rate=Decimal("18.00"))
    live_read(hana, 30)  # $9.00
    live_read(ivo, 70)  # $21.00
    client.force_login(hana.user)

    # Nothing in the URL can point the page at someone else.
    response = client.get(
        reverse("assessment:my_pay"), {"month": "2026-11", "assessor": ivo.pk, "user": ivo.user_id}
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "My pay: November 2026" in html
    assert "$9.00" in html and "30 minutes" in html
    # "70 minutes", not a bare "70": a CSRF token may hold those digits.
    assert "$21.00" not in html and "70 minutes" not in html and "Ivo" not in html
    assert "$18.00 an hour" in html


def test_an_assessor_paid_by_fee_is_told_so(client, clock, assessor):
    flat = assessor("Fay", fee_per_submission=Decimal("40.00"))
    client.force_login(flat.user)
    html = client.get(reverse("assessment:my_pay")).content.decode()
    assert "a fixed fee of $40.00 for each submission" in html
    assert "You scored nothing in October 2026" in html


@pytest.mark.parametrize("who", ["earner", "lead"])
def test_people_without_an_assessor_profile_have_no_pay_page(client, who, make_earner, lead):
    client.force_login(make_earner() if who == "earner" else lead)
    assert client.get(reverse("assessment:my_pay")).status_code == 403
