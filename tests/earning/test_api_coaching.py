"""Coaching over the API (invariant 8): a token client asks a coach, shares a draft, reads and
resolves comments; the coach reads the caseload and comments. Same refusals as the pages;
whatever is not the caller's is 404 and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from microcred.earning import coaching
from microcred.earning import services as earning
from microcred.earning.models import DraftComment, EvidenceShare
from microcred.orgs.tokens import create_token
from tests.assessment.conftest import version  # noqa: F401  (fixture)
from tests.assessment.helpers import fill_portfolio

from .test_coaching import People

pytestmark = pytest.mark.django_db
BASE = "/api/v1/earning"


@pytest.fixture
def people(org_tree, make_user) -> People:
    return People(org_tree, make_user)


def bearer(user) -> Client:
    _, secret = create_token(user, name="script")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def send(client: Client, url: str, data: dict | None = None):
    return client.post(f"{BASE}{url}", data or {}, content_type="application/json")


def test_the_whole_coaching_path_over_the_api(people, version):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.earner)
    fill_portfolio(attempt, people.earner)
    earner, coach = bearer(people.earner), bearer(people.coach)

    mine = earner.get(f"{BASE}/me/coaches").json()
    assert people.coach.pk in {c["id"] for c in mine["available"]} and mine["current"] == []
    asked = send(earner, "/me/coaches", {"coach": people.coach.pk})
    assert asked.status_code == 201
    assert send(earner, "/me/coaches", {"coach": people.coach.pk}).status_code == 200
    assert send(earner, "/me/coaches", {"coach": people.far_coach.pk}).status_code == 404

    shared = send(earner, f"/attempts/{attempt.uuid}/shares", {"coach": people.coach.pk})
    assert shared.status_code == 201
    load = coach.get(f"{BASE}/coaching/caseload").json()
    assert load["size"] == 1 and load["guide"] == 20
    (line,) = load["coachees"][0]["attempts"]
    assert line["shared_with_me"] is True and line["id"] == str(attempt.uuid)

    part = attempt.version.evidence_requirements.order_by("order").first()
    url = f"/coaching/attempts/{attempt.uuid}/comments"
    said = send(coach, url, {"body": "Name the question you asked.", "requirement": part.pk})
    assert said.status_code == 201
    assert (
        send(
            coach, url, {"body": "Name the question you asked.", "requirement": part.pk}
        ).status_code
        == 200
    )
    empty = send(coach, url, {"body": "  "})
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "body"
    assert DraftComment.objects.count() == 1

    seen = earner.get(f"{BASE}{url}").json()
    assert [(c["body"], c["resolved"]) for c in seen] == [("Name the question you asked.", False)]
    resolved = send(earner, f"/coaching/comments/{said.json()['id']}/resolve")
    assert resolved.json()["resolved"] is True
    # The coach may not resolve; a stranger may not read.
    assert send(coach, f"/coaching/comments/{said.json()['id']}/resolve").status_code == 404
    assert bearer(people.stranger).get(f"{BASE}{url}").status_code == 404

    # Revoking the share hides the draft from the coach at once; the comment stays.
    share_id = shared.json()["id"]
    assert earner.delete(f"{BASE}/attempts/{attempt.uuid}/shares/{share_id}").status_code == 204
    assert coach.get(f"{BASE}{url}").status_code == 404
    assert send(coach, url, {"body": "One more thing."}).status_code == 404
    assert EvidenceShare.objects.get(pk=share_id).revoked_at is not None
    assert DraftComment.objects.count() == 1


def test_after_submission_a_coach_cannot_comment(people, version):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.earner)
    fill_portfolio(attempt, people.earner)
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    coaching.share_with_coach(attempt, people.coach, user=people.earner)
    earning.submit(attempt, user=people.earner)
    refused = send(
        bearer(people.coach), f"/coaching/attempts/{attempt.uuid}/comments", {"body": "Hi"}
    )
    assert refused.status_code == 400
    assert not DraftComment.objects.exists()


def test_ending_coaching_and_who_may(people):
    relationship, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert (
        bearer(people.stranger)
        .delete(f"{BASE}/coaching/relationships/{relationship.pk}")
        .status_code
        == 404
    )
    assert (
        bearer(people.coach).delete(f"{BASE}/coaching/relationships/{relationship.pk}").status_code
        == 204
    )
    relationship.refresh_from_db()
    assert relationship.ended is not None
    # Someone who is not a coach has no caseload.
    assert bearer(people.earner).get(f"{BASE}/coaching/caseload").status_code == 404
