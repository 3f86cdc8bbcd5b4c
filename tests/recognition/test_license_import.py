"""Importing licenses by CSV (dry run, confirm, idempotent, every bad row named, nothing
half-imported) and the office's list of licenses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from microcred.orgs.models import AuditEvent
from microcred.recognition import renewal
from microcred.recognition.models import License, RenewalCycle

pytestmark = pytest.mark.django_db

HEADER = "email,license_number,area,cycle_start,cycle_end,ceus_required,mcs_required\n"


@pytest.fixture
def teachers(make_earner, org_tree):
    return {
        "ana": make_earner(email="ana@example.org", first_name="Ana"),
        "ben": make_earner(email="Ben@Example.org", first_name="Ben"),
        "oak": make_earner(org_tree["school2"], email="oak@example.org", first_name="Olu"),
    }


GOOD = (
    HEADER
    + "ana@example.org,NC-1,Elementary K-6,2024-07-01,2029-06-30,8.0,4\n"
    + "ben@example.org,NC-2,Mathematics 6-9,07/01/2023,06/30/2028,,\n"
)


def upload(client, text: str, office=None):
    data = {"file": SimpleUploadedFile("licenses.csv", text.encode(), "text/csv")}
    if office is not None:
        data["office"] = office.pk
    return client.post(reverse("recognition:licenses_import"), data)


def review_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def test_dry_run_then_confirm_then_idempotent(client, licensure, teachers, org_tree):
    client.force_login(licensure)
    url = review_url(upload(client, GOOD))
    page = client.get(url).content.decode()
    assert "2</strong> new licenses" in page and "Nothing has been saved yet" in page
    assert License.objects.count() == 0  # the dry run wrote nothing

    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("recognition:licenses")
    ana = License.objects.get(number="NC-1")
    assert (ana.educator, ana.state, ana.area) == (
        teachers["ana"],
        org_tree["state"],
        "Elementary K-6",
    )
    cycle = ana.cycles.get()
    assert (cycle.starts_on, cycle.ends_on, cycle.ceus_required, cycle.mcs_required) == (
        date(2024, 7, 1),
        date(2029, 6, 30),
        D("8.0"),
        4,
    )
    ben = RenewalCycle.objects.get(license__number="NC-2")
    assert (ben.license.educator, ben.starts_on, ben.ceus_required, ben.mcs_required) == (
        teachers["ben"],
        date(2023, 7, 1),
        D("8.0"),  # the default
        None,
    )
    assert AuditEvent.objects.filter(action="recognition.licenses_imported").count() == 1
    assert client.get(url).status_code == 302  # the token is spent

    # The same file again: nothing to do, nothing changed.
    url = review_url(upload(client, GOOD))
    page = client.get(url).content.decode()
    assert "Nothing to import: every license in this file is already in place." in page
    client.post(url)
    assert (License.objects.count(), RenewalCycle.objects.count()) == (2, 2)
    assert AuditEvent.objects.filter(action="recognition.licenses_imported").count() == 1


def test_a_changed_file_updates_and_adds_cycles(licensure, teachers, org_tree):
    renewal.run_license_import(licensure, org_tree["state"], GOOD)
    changed = (
        HEADER
        + "ana@example.org,NC-1,Elementary K-8,2024-07-01,2029-12-31,8.0,4\n"
        + "ana@example.org,NC-1,Elementary K-8,2030-01-01,2034-12-31,8.0,4\n"
        + "ben@example.org,NC-2,Mathematics 6-9,2023-07-01,2028-06-30,,\n"
    )
    plan = renewal.preview_license_import(licensure, org_tree["state"], changed)
    assert [row.action for row in plan.rows] == ["update", "add_cycle", "unchanged"]
    assert "area 'Elementary K-6' to 'Elementary K-8'" in plan.rows[0].detail
    renewal.run_license_import(licensure, org_tree["state"], changed)
    ana = License.objects.get(number="NC-1")
    assert ana.area == "Elementary K-8"
    assert [(c.starts_on.year, c.ends_on) for c in ana.cycles.order_by("starts_on")] == [
        (2024, date(2029, 12, 31)),
        (2030, date(2034, 12, 31)),
    ]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (
            "nobody@example.org,NC-9,,2024-07-01,2029-06-30,,",
            "email",
            "No one in microcred has the email nobody@example.org",
        ),
        (
            "ana@example.org,NC-9,,2029-07-01,2024-06-30,,",
            "cycle_end",
            "The cycle ends (2024-06-30) before it starts (2029-07-01)",
        ),
        (
            "ana@example.org,NC-9,,2024-13-45,2029-06-30,,",
            "cycle_start",
            "'2024-13-45' is not a date",
        ),
        ("ana@example.org,NC-9,,,2029-06-30,,", "cycle_start", "The date is empty."),
        (
            "ana@example.org,NC-OLD,,2024-07-01,2029-06-30,,",
            "license_number",
            "License NC-OLD is held by another person",
        ),
        (
            "ana@example.org,NC-9,,2024-07-01,2029-06-30,eight,",
            "ceus_required",
            "'eight' is not a number of CEUs",
        ),
        (
            "ana@example.org,NC-9,,2024-07-01,2029-06-30,8,-1",
            "mcs_required",
            "'-1' is not a number of micro-credentials",
        ),
        (
            "ana@example.org,,,2024-07-01,2029-06-30,,",
            "license_number",
            "The license number is empty.",
        ),
        (
            "ana@example.org,NC-B,,2024-07-01,2029-06-30,,",
            "license_number",
            "Row 2 gives license NC-B to another person.",
        ),
    ],
)
def test_each_bad_row_is_named_and_nothing_is_imported(
    client, licensure, teachers, org_tree, row, column, message
):
    old = License.objects.create(educator=teachers["oak"], state=org_tree["state"], number="NC-OLD")
    text = HEADER + "ben@example.org,NC-B,,2024-07-01,2029-06-30,,\n" + row + "\n"
    client.force_login(licensure)
    url = review_url(upload(client, text))
    response = client.get(url)
    page = response.content.decode()
    assert "to fix first" in page and "Import 1 row" not in page
    plan = response.context["plan"]
    [problem] = plan.problems
    assert (problem.row, problem.column) == (3, column)
    assert message in problem.message
    assert message.replace("'", "&#x27;") in page
    response = client.post(url)  # forced through: still nothing saved
    assert response.status_code == 400
    assert list(License.objects.all()) == [old]


def test_overlapping_cycles_are_refused(licensure, teachers, org_tree):
    renewal.run_license_import(licensure, org_tree["state"], GOOD)
    text = HEADER + "ana@example.org,NC-1,,2026-01-01,2030-12-31,,\n"
    [problem] = renewal.preview_license_import(licensure, org_tree["state"], text).problems
    assert "already has the cycle 2024-07-01 to 2029-06-30, which overlaps" in problem.message
    with pytest.raises(renewal.LicenseImportRejected):
        renewal.run_license_import(licensure, org_tree["state"], text)
    assert RenewalCycle.objects.count() == 2


def test_file_problems(licensure, org_tree, teachers):
    plan = renewal.preview_license_import(licensure, org_tree["state"], "email,area\nx,y\n")
    [problem] = plan.file_problems
    assert "Missing columns: license_number, cycle_start, cycle_end" in problem.message


def test_a_district_office_imports_its_own_people_under_the_state(client, hr, teachers, org_tree):
    client.force_login(hr)
    text = HEADER + "oak@example.org,NC-5,,2024-07-01,2029-06-30,,\n"
    plan = client.get(review_url(upload(client, text))).context["plan"]
    [problem] = plan.problems
    assert "oak@example.org does not work in a school or district you keep licenses for" in str(
        problem
    )
    url = review_url(upload(client, GOOD))
    client.post(url)
    assert License.objects.get(number="NC-1").state == org_tree["state"]


def test_only_offices_import_and_another_office_is_refused(client, hr, make_earner, org_tree):
    client.force_login(make_earner())
    assert client.get(reverse("recognition:licenses_import")).status_code == 403
    assert client.get(reverse("recognition:licenses")).status_code == 403
    client.force_login(hr)
    response = upload(client, GOOD, office=org_tree["lea2"])
    assert response.status_code == 200
    assert "Choose one of the offices you work for." in response.content.decode()


def test_an_unreadable_file_is_refused_at_upload(client, licensure):
    client.force_login(licensure)
    response = client.post(
        reverse("recognition:licenses_import"),
        {"file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04rest", "application/zip")},
    )
    assert response.status_code == 200
    assert "This is not a CSV file" in response.content.decode()


# ---------------------------------------------------------------------------- the list
def test_the_list_shows_progress_and_filters_cycles_ending_soon(
    client, licensure, teachers, org_tree
):
    today = timezone.localdate()
    soon = License.objects.create(educator=teachers["ana"], state=org_tree["state"], number="S-1")
    RenewalCycle.objects.create(
        license=soon, starts_on=today - timedelta(days=1500), ends_on=today + timedelta(days=100)
    )
    later = License.objects.create(educator=teachers["ben"], state=org_tree["state"], number="L-2")
    RenewalCycle.objects.create(
        license=later, starts_on=today - timedelta(days=100), ends_on=today + timedelta(days=1500)
    )
    client.force_login(licensure)
    page = client.get(reverse("recognition:licenses")).content.decode()
    assert "S-1" in page and "L-2" in page
    assert "0.0 of 8.0 CEUs; 3 months left" in page
    page = client.get(reverse("recognition:licenses"), {"ending_soon": "on"}).content.decode()
    assert "S-1" in page and "L-2" not in page


def test_a_district_lists_only_its_peoples_licenses(client, hr, teachers, org_tree):
    for number, who in (("P-1", "ana"), ("O-1", "oak")):
        License.objects.create(educator=teachers[who], state=org_tree["state"], number=number)
    client.force_login(hr)
    page = client.get(reverse("recognition:licenses")).content.decode()
    assert "P-1" in page and "O-1" not in page
