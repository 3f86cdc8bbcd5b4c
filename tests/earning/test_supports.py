"""Earner supports (issue 11): the self-assessment against an MC version's rubric, and the
learning plan a principal may sign off. Through the services and over HTTP; bad input
changes nothing; someone else's record is 404; every change is audited."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from microcred.catalog.models import MicroCredentialVersion, RubricComponent, Stack, StackMember
from microcred.earning import services, supports
from microcred.earning.models import (
    Attempt,
    LearningGoal,
    LearningPlan,
    SelfAssessment,
    SelfAssessmentRating,
)
from microcred.notifications.models import Notification
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.conftest import (  # fixtures
    make_assessor,  # noqa: F401
    make_earner,  # noqa: F401
    make_submission,  # noqa: F401
    version,  # noqa: F401
)

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _components(mc_version: MicroCredentialVersion) -> list[RubricComponent]:
    return list(RubricComponent.objects.filter(rubric__version=mc_version).order_by("order"))


def _ratings_post(mc_version, confidence="getting_there", **overrides) -> dict[str, str]:
    data = {}
    for c in _components(mc_version):
        data[f"c{c.pk}-confidence"] = confidence
        data[f"c{c.pk}-note"] = ""
    data.update(overrides)
    return data


@pytest.fixture
def earner(make_earner):  # noqa: F811
    return make_earner(email="inez@example.org")


@pytest.fixture
def principal(make_user, org_tree):
    return make_user(Role.PRINCIPAL, org_tree["school1"], first_name="Pat", last_name="Rincipal")


@pytest.fixture
def stack(version):  # noqa: F811
    stack = Stack.objects.create(
        provider=version.micro_credential.provider,
        slug="coaches",
        title="Coaching pathway",
        description="For coaches.",
        target_role="Coach",
        level="advanced",
        achievement_name="Coach",
        status=Stack.Status.PUBLISHED,
    )
    StackMember.objects.create(stack=stack, micro_credential=version.micro_credential)
    return stack


# ---------------------------------------------------------------------------- self-assessment
def test_an_earner_rates_every_component_and_changes_it_until_they_submit(earner, version):  # noqa: F811
    url = f"/earn/self-assessment/{version.pk}/"
    client = _client(earner)
    page = client.get(url).content.decode()
    for component in _components(version):
        assert component.title in page
    assert "Not yet confident" in page and "Getting there" in page and "Confident" in page

    first = _components(version)[0]
    data = _ratings_post(version, **{f"c{first.pk}-note": "I do this weekly."})
    response = client.post(url, data)
    assert response.status_code == 302
    assessment = SelfAssessment.objects.get(earner=earner, version=version)
    assert assessment.ratings.count() == len(_components(version))
    assert assessment.ratings.get(rubric_component=first).note == "I do this weekly."
    assert AuditEvent.objects.filter(action="earning.self_assessment.created").count() == 1

    client.post(url, _ratings_post(version, confidence="confident"))
    assert set(assessment.ratings.values_list("confidence", flat=True)) == {"confident"}
    assert AuditEvent.objects.filter(action="earning.self_assessment.updated").count() == 1
    page = client.get(url).content.decode()
    assert page.count(" checked") == len(_components(version))


def test_a_missing_rating_or_a_long_note_saves_nothing(earner, version):  # noqa: F811
    url = f"/earn/self-assessment/{version.pk}/"
    client = _client(earner)
    first, *_ = _components(version)
    response = client.post(url, _ratings_post(version, **{f"c{first.pk}-confidence": ""}))
    assert response.status_code == 400
    assert f"How confident are you about “{first.title}”?: Choose one of the three answers." in (
        response.content.decode()
    )
    response = client.post(url, _ratings_post(version, **{f"c{first.pk}-note": "x" * 2001}))
    assert response.status_code == 400
    response = client.post(url, _ratings_post(version, **{f"c{first.pk}-confidence": "expert"}))
    assert response.status_code == 400
    assert not SelfAssessment.objects.exists()
    assert not SelfAssessmentRating.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="earning.self_assessment").exists()


def test_the_service_refuses_ratings_for_another_versions_components(earner, version):  # noqa: F811
    ratings = {c.pk: ("confident", "") for c in _components(version)}
    ratings[999_999] = ("confident", "")
    with pytest.raises(Exception, match="rubric part"):
        supports.save_self_assessment(earner, version, ratings)
    assert not SelfAssessment.objects.exists()


def test_the_self_assessment_is_locked_once_they_submit(earner, version, make_submission):  # noqa: F811
    supports.save_self_assessment(
        earner, version, {c.pk: ("getting_there", "") for c in _components(version)}
    )
    make_submission(earner)
    url = f"/earn/self-assessment/{version.pk}/"
    client = _client(earner)
    page = client.get(url).content.decode()
    assert "kept as it was" in page and '<form method="post" novalidate>' not in page
    response = client.post(url, _ratings_post(version, confidence="confident"))
    assert response.status_code == 400
    assert "kept as it was when you submitted" in response.content.decode()
    assert set(SelfAssessmentRating.objects.values_list("confidence", flat=True)) == {
        "getting_there"
    }


def test_self_assessments_are_per_earner_and_only_for_earners(
    earner,
    make_earner,  # noqa: F811
    make_user,
    org_tree,
    version,  # noqa: F811
):
    supports.save_self_assessment(
        earner, version, {c.pk: ("confident", "Mine.") for c in _components(version)}
    )
    other = make_earner(email="other@example.org")
    page = _client(other).get(f"/earn/self-assessment/{version.pk}/").content.decode()
    assert "Mine." not in page
    coach = make_user(Role.COACH, org_tree["school1"])
    response = _client(coach).post(f"/earn/self-assessment/{version.pk}/", _ratings_post(version))
    assert response.status_code == 400
    assert "for earners" in response.content.decode()
    assert SelfAssessment.objects.count() == 1


def test_a_draft_version_has_no_self_assessment_page(earner, version):  # noqa: F811
    version.status = MicroCredentialVersion.Status.DRAFT
    MicroCredentialVersion.objects.filter(pk=version.pk).update(status="draft")
    assert _client(earner).get(f"/earn/self-assessment/{version.pk}/").status_code == 404
    assert _client(earner).get("/earn/self-assessment/999999/").status_code == 404


def test_the_mc_page_and_the_attempt_page_link_to_it(earner, version):  # noqa: F811
    link = f"/earn/self-assessment/{version.pk}/"
    client = _client(earner)
    assert link in client.get(f"/catalog/mc/{version.micro_credential.slug}/").content.decode()
    attempt, _ = services.start_attempt(version, user=earner)
    assert link in client.get(f"/earn/{attempt.uuid}/").content.decode()


# ---------------------------------------------------------------------------- learning plan
def test_goals_name_mcs_stacks_or_free_text(earner, version, stack):  # noqa: F811
    client = _client(earner)
    assert "No goals yet" in client.get("/earn/plan/").content.decode()
    target = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    mc = version.micro_credential
    assert (
        client.post("/earn/plan/", {"micro_credential": mc.pk, "target_date": target}).status_code
        == 302
    )
    assert client.post("/earn/plan/", {"stack": stack.pk}).status_code == 302
    assert client.post("/earn/plan/", {"text": "Observe two colleagues."}).status_code == 302
    page = client.get("/earn/plan/").content.decode()
    assert version.title in page and "Coaching pathway" in page
    assert "Observe two colleagues." in page
    plan = LearningPlan.objects.get(earner=earner)
    assert plan.goals.count() == 3
    assert AuditEvent.objects.filter(action="earning.learning_goal.added").count() == 3


def test_bad_goals_change_nothing(earner, version, stack):  # noqa: F811
    client = _client(earner)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    cases = [
        ({}, "Name a micro-credential or a stack"),
        ({"text": "Read", "target_date": yesterday}, "from today on"),
        ({"micro_credential": version.micro_credential.pk, "stack": stack.pk}, "not both"),
        ({"micro_credential": 999999}, "Select a valid choice"),
        ({"text": "x" * 1001}, "at most 1000"),
    ]
    for data, message in cases:
        response = client.post("/earn/plan/", data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not LearningGoal.objects.exists()

    supports.add_goal(earner, micro_credential=version.micro_credential)
    response = client.post("/earn/plan/", {"micro_credential": version.micro_credential.pk})
    assert response.status_code == 400
    assert "already a goal" in response.content.decode()
    assert LearningGoal.objects.count() == 1


def test_an_mc_goal_follows_the_attempt_to_done(earner, version, make_assessor, stack):  # noqa: F811
    from tests.earning.test_not_yet_feedback import _decide

    mc_goal = supports.add_goal(earner, micro_credential=version.micro_credential)
    stack_goal = supports.add_goal(earner, stack=stack)

    def statuses() -> list[str]:
        return [g.status for g in supports.plan_view(earner).goals]

    assert statuses() == ["planned", "planned"]
    attempt, _ = services.start_attempt(version, user=earner)
    assert statuses() == ["in_progress", "in_progress"]
    make_assessor()
    from tests.assessment.helpers import fill_portfolio

    fill_portfolio(attempt, earner)
    submission = services.submit(attempt, user=earner)
    _decide(submission, total=18)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EARNED
    assert statuses() == ["done", "done"]
    # The earner cannot set a derived status by hand.
    supports.update_goal(earner, mc_goal, text="", target_date=None, status="planned")
    mc_goal.refresh_from_db()
    assert supports.goal_status(earner, mc_goal) == "done"
    assert stack_goal.pk


def test_a_free_text_goal_takes_the_status_the_earner_sets(earner):
    goal = supports.add_goal(earner, text="Lead a PLC session.")
    client = _client(earner)
    page = client.get(f"/earn/plan/goals/{goal.pk}/").content.decode()
    assert "Where it stands" in page
    response = client.post(
        f"/earn/plan/goals/{goal.pk}/", {"text": "Lead two PLC sessions.", "status": "done"}
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.text, goal.status) == ("Lead two PLC sessions.", "done")
    assert (
        client.post(f"/earn/plan/goals/{goal.pk}/", {"text": "", "status": "done"}).status_code
        == 400
    )
    goal.refresh_from_db()
    assert goal.text == "Lead two PLC sessions."
    assert AuditEvent.objects.filter(action="earning.learning_goal.updated").count() == 1


def test_someone_elses_goal_is_404(earner, make_earner):  # noqa: F811
    goal = supports.add_goal(earner, text="Mine.")
    other = _client(make_earner(email="other@example.org"))
    assert other.get(f"/earn/plan/goals/{goal.pk}/").status_code == 404
    assert (
        other.post(f"/earn/plan/goals/{goal.pk}/", {"text": "x", "status": "done"}).status_code
        == 404
    )
    assert other.post(f"/earn/plan/goals/{goal.pk}/remove/").status_code == 404
    assert LearningGoal.objects.get(pk=goal.pk).text == "Mine."
    assert _client(earner).post(f"/earn/plan/goals/{goal.pk}/remove/").status_code == 302
    assert not LearningGoal.objects.exists()
    assert AuditEvent.objects.filter(action="earning.learning_goal.removed").exists()


def test_the_principal_returns_then_signs_off_the_plan(earner, principal):
    supports.add_goal(earner, text="Lead a PLC session.")
    client = _client(earner)
    page = client.get("/earn/plan/").content.decode()
    assert "Pat Rincipal" in page
    assert client.post("/earn/plan/send/", {"principal": principal.pk}).status_code == 302
    plan = LearningPlan.objects.get(earner=earner)
    assert (plan.sign_off, plan.principal, plan.school.slug) == ("waiting", principal, "pine-es")
    assert Notification.objects.filter(user=principal).count() == 1
    assert "Waiting for sign-off" in client.get("/earn/plan/").content.decode()
    # Sending twice is refused.
    response = client.post("/earn/plan/send/", {"principal": principal.pk})
    assert response.status_code == 400

    boss = _client(principal)
    queue = boss.get("/earn/plans/sign-off/").content.decode()
    assert f"/earn/plans/sign-off/{plan.pk}/" in queue and "<caption" in queue
    review = boss.get(f"/earn/plans/sign-off/{plan.pk}/").content.decode()
    assert "Lead a PLC session." in review

    # Returning needs a comment; without one nothing changes.
    response = boss.post(f"/earn/plans/sign-off/{plan.pk}/", {"decision": "return"})
    assert response.status_code == 400
    assert "Say what the earner should change" in response.content.decode()
    plan.refresh_from_db()
    assert plan.sign_off == "waiting"

    response = boss.post(
        f"/earn/plans/sign-off/{plan.pk}/", {"decision": "return", "comment": "Add a date."}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.sign_off, plan.comment) == ("returned", "Add a date.")
    assert Notification.objects.filter(user=earner, title__contains="returned").exists()
    assert "Add a date." in client.get("/earn/plan/").content.decode()
    assert (
        f"/earn/plans/sign-off/{plan.pk}/" not in boss.get("/earn/plans/sign-off/").content.decode()
    )

    assert client.post("/earn/plan/send/", {"principal": principal.pk}).status_code == 302
    response = boss.post(f"/earn/plans/sign-off/{plan.pk}/", {"decision": "sign_off"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.sign_off == "signed_off"
    assert Notification.objects.filter(user=earner, title__contains="signed off").exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "earning.learning_plan.sent",
        "earning.learning_plan.returned",
        "earning.learning_plan.signed_off",
    } <= actions

    # A change after the sign-off needs a new one.
    supports.add_goal(earner, text="Visit a colleague.")
    plan.refresh_from_db()
    assert plan.sign_off == "not_sent"
    assert AuditEvent.objects.filter(action="earning.learning_plan.sign_off_reset").exists()


def test_only_a_principal_of_the_earners_school_decides(earner, principal, make_user, org_tree):
    supports.add_goal(earner, text="Lead a PLC session.")
    other_principal = make_user(Role.PRINCIPAL, org_tree["school2"])
    # The earner cannot address a principal of another school.
    response = _client(earner).post("/earn/plan/send/", {"principal": other_principal.pk})
    assert response.status_code == 400
    assert "Choose a principal of your school." in response.content.decode()
    assert LearningPlan.objects.get(earner=earner).sign_off == "not_sent"

    plan = supports.send_for_sign_off(earner, principal.pk)
    stranger = _client(other_principal)
    assert stranger.get("/earn/plans/sign-off/").status_code == 200
    assert (
        f"/earn/plans/sign-off/{plan.pk}/"
        not in stranger.get("/earn/plans/sign-off/").content.decode()
    )
    assert stranger.get(f"/earn/plans/sign-off/{plan.pk}/").status_code == 404
    response = stranger.post(f"/earn/plans/sign-off/{plan.pk}/", {"decision": "sign_off"})
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.sign_off == "waiting"
    # Not a principal at all: no queue.
    assert _client(earner).get("/earn/plans/sign-off/").status_code == 403


def test_a_plan_without_goals_or_principal_cannot_be_sent(earner):
    client = _client(earner)
    response = client.post("/earn/plan/send/", {"principal": 1})
    assert response.status_code == 400
    supports.add_goal(earner, text="Lead a PLC session.")
    page = client.get("/earn/plan/").content.decode()
    assert "Your school has no principal in the system yet" in page
    assert not LearningPlan.objects.exclude(sign_off="not_sent").exists()
