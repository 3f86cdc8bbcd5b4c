"""Reliability pages over HTTP: who may open each, "not enough data", the charts' accessible
tables, clearing and resuming flags, an assessor's own page, and the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from microcred.assessment import monitoring
from microcred.assessment.models import DriftFlag, Qualification
from microcred.orgs.models import AuditEvent
from tests.assessment.helpers import double_read, drift_reads, harsher

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifted(drift_policy, anchor_set, make_assessor):
    """A steady assessor and one flagged for drift by the sweep."""
    calibration_set = anchor_set()
    steady = make_assessor()
    drifting = make_assessor()
    drifting.user.first_name, drifting.user.last_name = "Drew", "Drift"
    drifting.user.save()
    drift_reads(steady, calibration_set, lambda master: master)
    drift_reads(drifting, calibration_set, harsher(3))
    monitoring.sweep_drift()
    return steady, drifting, DriftFlag.objects.get(assessor=drifting)


def _get(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


@pytest.mark.parametrize(
    "name", ["assessment:reliability", "assessment:drift_flags", "assessment:reliability_csv"]
)
def test_lead_pages_refuse_assessors_and_earners(client, drifted, make_earner, name):
    steady, _, _ = drifted
    assert _get(client, steady.user, name).status_code == 403
    assert _get(client, make_earner(), name).status_code == 403


def test_the_reliability_page_names_each_statistic_beside_its_threshold(
    client,
    drifted,
    lead,
):
    response = _get(client, lead, "assessment:reliability")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Collaborative Leadership Coaching" in html
    assert "Quadratic-weighted kappa" in html and "at least 0.6" in html
    assert "within 1.5 points either way" in html
    assert "Drew Drift" in html and "Sent to recalibration" in html
    # The charts' numbers, and tables with the same numbers.
    assert 'id="reliability-charts"' in html and "chart.umd.min.js" in html
    assert "Agreement by month for Collaborative Leadership Coaching" in html
    assert "-3.00 points" in html  # the drifting assessor's severity, in the assessors' table


def test_not_enough_data_is_said_in_words(client, drift_policy, anchor_set, make_assessor, lead):
    drift_reads(make_assessor(), anchor_set((17, 9, 12)), lambda master: master)

    html = _get(client, lead, "assessment:reliability").content.decode()

    assert "not enough data (3 of 4 pairs)" in html


def test_an_empty_program_says_what_will_appear(client, lead):
    html = _get(client, lead, "assessment:reliability").content.decode()
    assert "nothing to measure" in html
    assert "reliability-charts" not in html


def test_a_lead_resumes_a_paused_assessor_with_a_reason(client, drifted, lead, version):
    _, drifting, flag = drifted
    DriftFlag.objects.filter(pk=flag.pk).update(status=DriftFlag.Status.PAUSED)
    client.force_login(lead)
    page = client.get(reverse("assessment:reliability_assessor", args=[drifting.pk]))
    assert page.status_code == 200
    assert "Resume live work" in page.content.decode()
    url = reverse("assessment:clear_drift_flag", args=[flag.pk])

    refused = client.post(url, {"reason": ""}, follow=True)
    assert "Enter a reason" in refused.content.decode()
    flag.refresh_from_db()
    assert flag.status == DriftFlag.Status.PAUSED

    done = client.post(url, {"reason": "Reviewed together."}, follow=True)
    assert "Resumed Drew Drift" in done.content.decode()
    flag.refresh_from_db()
    assert flag.status == DriftFlag.Status.CLEARED
    assert (
        Qualification.objects.get(
            assessor=drifting, micro_credential=version.micro_credential
        ).status
        == Qualification.Status.QUALIFIED
    )
    assert AuditEvent.objects.get(action="drift.resumed").reason == "Reviewed together."


def test_an_assessor_cannot_clear_flags_or_open_others_pages(client, drifted):
    steady, drifting, flag = drifted
    client.force_login(drifting.user)
    response = client.post(
        reverse("assessment:clear_drift_flag", args=[flag.pk]), {"reason": "Mine."}
    )
    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.status == DriftFlag.Status.RECALIBRATE
    assert (
        client.get(reverse("assessment:reliability_assessor", args=[steady.pk])).status_code == 403
    )


def test_the_flags_page_lists_open_flags(client, drifted, lead):
    html = _get(client, lead, "assessment:drift_flags").content.decode()
    assert "1 open flag" in html and "Drew Drift" in html


def test_an_assessor_sees_their_own_agreement_and_nobody_else(
    client,
    drifted,
    submissions,
):
    steady, drifting, _ = drifted
    (submission,) = submissions(1)
    double_read(submission, drifting, steady, (15, 16))

    response = _get(client, drifting.user, "assessment:my_reliability")
    html = response.content.decode()

    assert response.status_code == 200
    assert "My agreement on total points" in html and "Sent to recalibration" in html
    assert "Resume live work" not in html and "Clear the flag" not in html
    assert steady.user.email not in html and steady.user.name not in html


def test_my_reliability_without_a_profile_says_so(client, make_earner):
    assert _get(client, make_earner(), "assessment:my_reliability").status_code == 403


def test_the_csv_has_every_statistic_and_no_formulas(client, drifted, lead):
    _, drifting, _ = drifted
    drifting.user.first_name, drifting.user.last_name = "=HYPERLINK(1)", ""
    drifting.user.save()

    response = _get(client, lead, "assessment:reliability_csv")

    assert response["Content-Disposition"] == 'attachment; filename="reliability.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Micro-credential", "Assessor", "Statistic"]
    names = {row[1] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in names and "=HYPERLINK(1)" not in names
    kappa = [row for row in rows if row[1] == "Everyone" and row[2] == "Quadratic-weighted kappa"]
    assert len(kappa) == 1 and kappa[0][5] == "16"
