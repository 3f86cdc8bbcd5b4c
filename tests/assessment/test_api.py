"""The assessor's JSON API: blind, own assignments only, bad input changes nothing."""

from __future__ import annotations

import json

import pytest

from microcred.assessment import selectors
from microcred.assessment.models import Assignment, Score
from tests.assessment.helpers import assert_blind, component_ids, feedback_for_all, marks_for

pytestmark = pytest.mark.django_db
BASE = "/api/v1/assessment"


def _payload(version, total, **changes):
    feedback = feedback_for_all(version)
    body = {
        "components": [
            {"component_id": pk, "criteria": criteria, "feedback": feedback[pk]}
            for pk, criteria in marks_for(version, total).items()
        ],
        "overall_feedback": "Thorough.",
        "minutes_spent": 30,
    }
    body.update(changes)
    return body


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_my_assignments_are_blind(client, assigned):
    client.force_login(assigned.assessor.user)
    response = client.get(f"{BASE}/assignments")
    assert response.status_code == 200
    [row] = response.json()
    assert row["code"] == selectors.submission_code(assigned.submission)
    assert row["open"] is True
    assert_blind(response.content.decode(), assigned.submission)


def test_the_api_needs_sign_in(client, assigned):
    assert client.get(f"{BASE}/assignments").status_code == 401


def test_one_assignment_carries_rubric_and_evidence_blind(client, assigned):
    client.force_login(assigned.assessor.user)
    response = client.get(f"{BASE}/assignments/{assigned.pk}")
    data = response.json()
    assert response.status_code == 200
    assert len(data["components"]) == 4 and len(data["bands"]) == 3
    assert data["evidence"][0]["text"] == "I coached my mentee weekly."
    video = next(f for part in data["evidence"] for f in part["files"])
    assert video["media"] == "video" and video["url"]
    assert [a["seconds"] for a in video["annotations"]] == [195, 420]
    assert_blind(response.content.decode(), assigned.submission)


def test_evidence_without_a_link_says_whether_it_is_coming_and_why(client, assigned):
    """An API client is told, as the scoring page tells the browser, that a file is being
    prepared (its clean copy not made yet) or cannot be shown (none could be made), never
    just handed an empty link (invariant 8)."""
    from django.urls import reverse

    from microcred.earning.evidence_access import BLIND_FAILED
    from microcred.earning.models import Upload

    client.force_login(assigned.assessor.user)
    detail, page = (
        f"{BASE}/assignments/{assigned.pk}",
        reverse("assessment:score", args=[assigned.pk]),
    )

    def first_file():
        return next(f for part in client.get(detail).json()["evidence"] for f in part["files"])

    ready = first_file()
    assert ready["status"] == "ready" and ready["url"] and ready["message"] == ""

    uploads = Upload.objects.filter(artifact__evidence__attempt=assigned.submission.attempt)
    uploads.update(blind_key="", blind_type="", probe_status=Upload.ProbeStatus.PENDING)
    preparing = first_file()
    assert preparing["status"] == "preparing" and preparing["url"] == ""
    assert preparing["message"].startswith("This file is being prepared")
    assert preparing["message"] in client.get(page).content.decode()

    uploads.update(probe_status=Upload.ProbeStatus.READY, probe_message=BLIND_FAILED + "Again.")
    unavailable = first_file()
    assert unavailable["status"] == "unavailable" and unavailable["url"] == ""
    assert unavailable["message"].startswith("This file cannot be shown")
    assert unavailable["message"] in client.get(page).content.decode()

    uploads.update(probe_status=Upload.ProbeStatus.FAILED, probe_message="")  # unreadable
    assert first_file()["status"] == "unavailable"


def test_another_assessor_gets_404(client, assigned, make_assessor, version):
    client.force_login(make_assessor().user)
    assert client.get(f"{BASE}/assignments/{assigned.pk}").status_code == 404
    url = f"{BASE}/assignments/{assigned.pk}/score"
    assert _post(client, url, _payload(version, 16)).status_code == 404
    assert not Score.objects.exists()


def test_submit_score_once(client, assigned, version):
    client.force_login(assigned.assessor.user)
    url = f"{BASE}/assignments/{assigned.pk}/score"
    response = _post(client, url, _payload(version, 15))
    assert response.status_code == 201
    assert response.json() == {"total_points": 15, "band": "Almost", "passed": False}

    again = _post(client, url, _payload(version, 20))
    assert again.status_code == 422
    assert "closed" in again.json()["detail"]
    assert Score.objects.get().total_points == 15


def test_missing_feedback_is_refused_with_the_field(client, assigned, version):
    client.force_login(assigned.assessor.user)
    first = component_ids(version)[0]
    body = _payload(version, 16)
    body["components"][0]["feedback"] = ""
    response = _post(client, f"{BASE}/assignments/{assigned.pk}/score", body)
    assert response.status_code == 422
    assert f"feedback_{first.pk}" in {e["field"] for e in response.json()["errors"]}
    assert not Score.objects.exists()


def test_decline(client, assigned, make_assessor):
    other = make_assessor()
    client.force_login(assigned.assessor.user)
    url = f"{BASE}/assignments/{assigned.pk}/decline"
    assert _post(client, url, {"reason": " "}).status_code == 422
    assigned.refresh_from_db()
    assert assigned.status == Assignment.Status.ASSIGNED

    response = _post(client, url, {"reason": "Conflict"})
    assert response.status_code == 200
    assert response.json()["status"] == "Declined"
    assert Assignment.objects.get(status=Assignment.Status.ASSIGNED).assessor == other
