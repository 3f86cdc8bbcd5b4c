"""The assessor's standing through the API (invariant 8): qualifications, calibration rounds,
own pay and agreement; planning the backlog for scoring leads. Bad input changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from microcred.assessment import services
from microcred.assessment.models import Assignment, CalibrationRound
from microcred.orgs.models import Role
from microcred.orgs.tokens import create_token
from tests.assessment.helpers import feedback_for_all, marks_for

pytestmark = pytest.mark.django_db
BASE = "/api/v1/assessment"


def _token_client(user) -> Client:
    _token, secret = create_token(user, name="Scoring app")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _post(client: Client, url: str, body: dict) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_my_qualifications_through_a_token(make_assessor, version):
    profile = make_assessor()
    response = _token_client(profile.user).get(f"{BASE}/qualifications")
    assert response.status_code == 200
    [row] = response.json()
    assert row["micro_credential"] == version.title
    assert (row["status"], row["source"]) == ("Qualified", "Attested by a scoring lead")


def test_someone_outside_the_pool_is_told_so(make_earner):
    response = _token_client(make_earner()).get(f"{BASE}/qualifications")
    assert response.status_code == 404
    assert "not in the assessor pool" in response.json()["detail"]


def test_a_round_on_an_unknown_set_is_refused_and_nothing_starts(make_assessor):
    profile = make_assessor()
    response = _post(
        _token_client(profile.user), f"{BASE}/calibration-rounds", {"calibration_set_id": 999}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["calibration_set"]
    assert not CalibrationRound.objects.exists()
    assert not Assignment.objects.exists()


def test_my_pay_for_a_month(make_assessor, make_submission, version):
    profile = make_assessor(pay_rate="18.00")
    assignment = services.assign(make_submission())
    services.submit_score(
        assignment,
        assessor=profile.user,
        component_points=marks_for(version, 17),
        feedback=feedback_for_all(version),
        overall_feedback="Clear.",
        minutes_spent=50,
    )
    month = assignment.score.submitted_at.astimezone().strftime("%Y-%m")
    client = _token_client(profile.user)

    data = client.get(f"{BASE}/pay", {"month": month}).json()

    assert (data["month"], data["reads"], data["minutes"]) == (month, 1, 50)
    assert data["amount"] == "15.00"
    bad = client.get(f"{BASE}/pay", {"month": "2026-13"})
    assert bad.status_code == 400 and "2026-13" in bad.json()["detail"]


def test_my_agreement_says_when_there_is_not_enough_data(make_assessor):
    profile = make_assessor()
    assert _token_client(profile.user).get(f"{BASE}/agreement").json() == []


def test_only_scoring_leads_plan_the_backlog(make_assessor, make_submission, make_user, org_tree):
    profile = make_assessor()
    make_submission()  # waiting: inside a test transaction, submitting assigns nothing yet
    assert _post(_token_client(profile.user), f"{BASE}/plan", {}).status_code == 403
    assert not Assignment.objects.exists()

    lead = make_user(Role.SCORING_LEAD, org_tree["assess"])
    response = _post(_token_client(lead), f"{BASE}/plan", {})

    assert response.status_code == 200
    assert response.json() == {"assigned": 1, "moved": 0, "waiting": 0}
    assert Assignment.objects.get().assessor == profile
