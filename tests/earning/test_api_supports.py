"""Earner supports over the API (invariant 8): a client with a token does what the plan,
self-assessment and team pages do, refused with the same words; someone else's record is 404."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from microcred.catalog.models import RubricComponent
from microcred.earning import services
from microcred.earning.models import (
    LearningGoal,
    LearningPlan,
    SelfAssessment,
    TeamInvitation,
    TeamMember,
)
from microcred.orgs.models import AuditEvent
from microcred.orgs.tokens import create_token

from .portfolio_helpers import signed_in, world_fixture  # noqa: F401 (the `world` fixture)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/earning"


def bearer(user) -> Client:
    _, secret = create_token(user, name="script")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def post(client: Client, url: str, data: dict, method: str = "post"):
    return getattr(client, method)(f"{BASE}{url}", data, content_type="application/json")


def test_a_token_client_builds_a_plan_and_sends_it_and_the_principal_signs_it_off(world):
    api = bearer(world.earner)
    assert api.get(f"{BASE}/me/plan").json()["goals"] == []
    slug = world.version.micro_credential.slug
    target = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    added = post(api, "/me/plan/goals", {"micro_credential": slug, "target_date": target})
    assert added.status_code == 201, added.content
    assert added.json()["micro_credential"] == slug and added.json()["derived"] is True
    own = post(api, "/me/plan/goals", {"text": "Observe a colleague's lesson"}).json()
    changed = post(
        api,
        f"/me/plan/goals/{own['id']}",
        {"text": "Observe two lessons", "status": "done"},
        "patch",
    )
    assert changed.json()["status"] == "done"
    plan = api.get(f"{BASE}/me/plan").json()
    assert "Observe two lessons" in {g["title"] for g in plan["goals"]}
    assert [p["id"] for p in plan["principals"]] == [world.principal.pk]

    sent = post(api, "/me/plan/send", {"principal": world.principal.pk})
    assert sent.json()["sign_off"] == "waiting"
    again = post(api, "/me/plan/send", {"principal": world.principal.pk})
    assert again.status_code == 400
    assert again.json()["detail"] == "Your plan is already waiting for your principal's sign-off."

    principal = bearer(world.principal)
    waiting = principal.get(f"{BASE}/plans/to-sign-off").json()
    assert [(p["earner"]["id"], len(p["goals"])) for p in waiting] == [(world.earner.pk, 2)]
    refused = post(principal, f"/plans/{waiting[0]['id']}/decision", {"sign_off": False})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "comment"
    decided = post(principal, f"/plans/{waiting[0]['id']}/decision", {"sign_off": True})
    assert decided.json()["sign_off"] == "signed_off"
    assert LearningPlan.objects.get(earner=world.earner).sign_off == "signed_off"
    # Another principal (or an earner) reaching for the plan gets 404, nothing changes.
    assert (
        post(
            bearer(world.stranger), f"/plans/{waiting[0]['id']}/decision", {"sign_off": True}
        ).status_code
        == 404
    )


def test_bad_goals_are_refused_with_the_pages_words_and_change_nothing(world):
    api = bearer(world.earner)
    unknown = post(api, "/me/plan/goals", {"micro_credential": "no-such-mc"})
    assert unknown.status_code == 400 and "no-such-mc" in unknown.json()["detail"]
    empty = post(api, "/me/plan/goals", {})
    assert empty.status_code == 400
    assert "Name a micro-credential or a stack" in empty.json()["detail"]
    past = post(api, "/me/plan/goals", {"text": "Late", "target_date": "2020-01-01"})
    assert past.json()["errors"][0]["field"] == "target_date"
    assert not LearningGoal.objects.exists()
    # Someone else's goal: 404 for reading it through a change or a removal.
    goal = post(api, "/me/plan/goals", {"text": "Mine"}).json()
    other = bearer(world.colleague)
    assert (
        post(other, f"/me/plan/goals/{goal['id']}", {"text": "Theirs"}, "patch").status_code == 404
    )
    assert other.delete(f"{BASE}/me/plan/goals/{goal['id']}").status_code == 404
    assert api.delete(f"{BASE}/me/plan/goals/{goal['id']}").status_code == 204
    assert not LearningGoal.objects.exists()


def test_a_self_assessment_over_the_api_is_all_or_nothing_and_locks_at_submission(world):
    api = bearer(world.earner)
    url = f"/self-assessments/{world.version.pk}"
    blank = api.get(f"{BASE}{url}").json()
    components = list(RubricComponent.objects.filter(rubric__version=world.version))
    assert [r["confidence"] for r in blank["ratings"]] == [""] * len(components)
    assert blank["locked"] is False
    partial = post(
        api, url, {"ratings": [{"component": components[0].pk, "confidence": "confident"}]}, "put"
    )
    assert partial.status_code == 400
    assert not SelfAssessment.objects.exists()
    every = [{"component": c.pk, "confidence": "getting_there", "note": "n"} for c in components]
    saved = post(api, url, {"ratings": every}, "put")
    assert saved.status_code == 200
    assert {r["confidence"] for r in saved.json()["ratings"]} == {"getting_there"}
    assert AuditEvent.objects.filter(action="earning.self_assessment.created").count() == 1
    assert bearer(world.colleague).get(f"{BASE}/self-assessments/999999").status_code == 404


def test_team_invitations_by_email_over_the_api(world, django_capture_on_commit_callbacks):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.create_team(attempt, user=world.earner, name="PLC")
    api = bearer(world.earner)
    url = f"/attempts/{attempt.uuid}/team/invitations"
    member = post(api, url, {"email": world.other_school_earner.email})
    assert member.status_code == 201 and member.json()["kind"] == "member"
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = post(api, url, {"email": "new.person@elsewhere.org"})
    assert newcomer.json()["kind"] == "email"
    duplicate = post(api, url, {"email": "NEW.person@elsewhere.org"})
    assert duplicate.status_code == 400
    assert TeamInvitation.objects.count() == 1
    # A colleague who is not on the team cannot invite or withdraw: 404, nothing changes.
    outsider = bearer(world.colleague)
    assert post(outsider, url, {"email": "x@example.org"}).status_code == 404
    gone = outsider.delete(f"{BASE}{url}/email/{newcomer.json()['id']}")
    assert gone.status_code == 404
    assert api.delete(f"{BASE}{url}/email/{newcomer.json()['id']}").status_code == 204
    assert api.delete(f"{BASE}{url}/member/{member.json()['id']}").status_code == 204
    assert not TeamMember.objects.filter(pk=member.json()["id"], status="invited").exists()


def test_signed_out_clients_get_401(world):
    assert Client().get(f"{BASE}/me/plan").status_code == 401
    assert signed_in(world.earner).get(f"{BASE}/me/plan").status_code == 200
