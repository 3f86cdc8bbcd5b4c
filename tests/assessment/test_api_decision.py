"""The earner's decision through the API carries what the attempt page shows them: outcome,
band, points, overall feedback and, per rubric component, points and feedback; never the
assessor."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from microcred.assessment import services
from microcred.orgs.tokens import create_token
from tests.assessment.helpers import score_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(make_assessor, make_submission, version):
    make_assessor()
    assignment = services.assign(make_submission())
    score_at(assignment, 14)
    return assignment


def test_the_api_decision_matches_the_attempt_page(decided, version):
    submission = decided.submission
    earner = submission.attempt.earner
    _token, secret = create_token(earner, name="My portfolio tool")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = api.get(f"/api/v1/earning/attempts/{submission.attempt.uuid}/submissions")

    assert response.status_code == 200
    decision = response.json()[0]["decision"]
    assert decision["outcome_label"] == "Not yet"
    assert (decision["band"], decision["total_points"], decision["max_points"]) == (
        "Almost",
        14,
        20,
    )
    assert decision["earned"] is False
    assert decision["overall_feedback"] == "Specific and well evidenced."
    titles = [c.title for c in version.rubric.components.order_by("order")]
    assert [c["title"] for c in decision["components"]] == titles
    assert [c["points"] for c in decision["components"]] == [5, 5, 4, 0]
    assert all(c["max_points"] == 5 for c in decision["components"])
    assert [c["feedback"] for c in decision["components"]] == [
        f"Clear evidence for {t}." for t in titles
    ]

    # Everything the API says about a component is on the earner's page, and the other way.
    page = Client()
    page.force_login(earner)
    html = unescape(
        page.get(reverse("earning:attempt", args=[submission.attempt.uuid])).content.decode()
    )
    summary = (
        f"<strong>{decision['outcome_label']}</strong> · 14 of 20 points, "
        f"in the “{decision['band']}” band."
    )
    assert summary in html
    for c in decision["components"]:
        card = re.search(
            rf"<h([34])>{re.escape(c['title'])}</h\1>\s*<p class=\"muted\">"
            rf"{c['points']} of {c['max_points']} points.*?{re.escape(c['feedback'])}",
            html,
            re.S,
        )
        assert card, c["title"]

    # Blind: nothing names the assessor.
    assessor = decided.assessor.user
    body = response.content.decode()
    assert assessor.email not in body
    assert not {"assessor", "scored_by"} & set(decision)
    for name in filter(None, [assessor.first_name, assessor.last_name]):
        assert name not in body
