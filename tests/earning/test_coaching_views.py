"""Coaching pages over HTTP: who gets in (others 404, non-coaches a plain 403), bad input
(empty, too long, twice, after submission) changing nothing, and the caseload's query count
not growing with its size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from microcred.assessment.models import CoachingRelationship
from microcred.earning import coaching
from microcred.earning import services as earning
from microcred.earning.models import (
    Artifact,
    DraftComment,
    EvidenceShare,
    LearningGoal,
    LearningPlan,
)
from microcred.notifications.models import Kind, Notification
from microcred.orgs.models import Role
from tests.assessment.conftest import version  # noqa: F401  (fixture)
from tests.assessment.helpers import fill_portfolio

from .test_coaching import People, _requirement

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(org_tree, make_user) -> People:
    return People(org_tree, make_user)


@pytest.fixture
def draft(people, version):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.earner)
    fill_portfolio(attempt, people.earner)
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    coaching.share_with_coach(attempt, people.coach, user=people.earner)
    return attempt


def _text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------- the caseload
def test_a_non_coach_gets_a_plain_403(people):
    response = client_for(people.earner).get(reverse("earning:caseload"))
    assert response.status_code == 403
    assert "does not have the coach role" in _text(response)


def test_a_coach_without_coachees_is_told_how_coachees_are_added(people):
    response = client_for(people.coach).get(reverse("earning:caseload"))
    assert response.status_code == 200
    text = _text(response)
    assert "You have no coachees yet" in text and "Ask for coaching" in text


def test_the_caseload_shows_each_coachee_plan_and_shared_attempt(people, draft):
    plan = LearningPlan.objects.create(earner=people.earner)
    LearningGoal.objects.create(plan=plan, text="Lead a data meeting")
    coaching.add_comment(draft, user=people.coach, body="Good start")
    response = client_for(people.coach).get(reverse("earning:caseload"))
    text = _text(response)
    assert response.status_code == 200
    assert people.earner.name in text and "Lead a data meeting" in text
    assert draft.version.title in text and "Shared with you" in text
    assert "1 open comment" in text
    assert reverse("earning:shared_draft", args=[draft.uuid]) in text
    assert "over the guide" not in text


def _caseload_queries(coach, earners) -> int:
    for earner in earners:
        coaching.start_coaching(earner, coach, user=earner)
        plan = LearningPlan.objects.create(earner=earner)
        LearningGoal.objects.create(plan=plan, text="A goal")
    client = client_for(coach)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("earning:caseload"))
    assert response.status_code == 200
    return len(queries)


def test_the_caseload_takes_as_many_queries_for_twenty_coachees_as_for_two(
    people,
    make_user,
    org_tree,
    version,  # noqa: F811
    django_assert_max_num_queries,
):
    def earners(prefix: str, n: int):
        made = []
        for i in range(n):
            earner = make_user(Role.EARNER, org_tree["school1"], last_name=f"{prefix}{i:02d}")
            earning.start_attempt(version, user=earner)
            made.append(earner)
        return made

    small = _caseload_queries(people.coach, earners("s", 2))
    large_coach = people.district_coach
    many = earners("m", 20)
    for earner in many:
        coaching.start_coaching(earner, large_coach, user=earner)
        plan = LearningPlan.objects.create(earner=earner)
        LearningGoal.objects.create(plan=plan, text="A goal")
    client = client_for(large_coach)
    with django_assert_max_num_queries(small) as captured:
        response = client.get(reverse("earning:caseload"))
    assert response.status_code == 200
    assert len(captured) == small
    assert response.content.decode().count('class="card"') == 20


def test_over_twenty_coachees_says_so_plainly(people, make_user, org_tree):
    for i in range(21):
        earner = make_user(Role.EARNER, org_tree["school1"], last_name=f"E{i:02d}")
        coaching.start_coaching(earner, people.coach, user=earner)
    text = _text(client_for(people.coach).get(reverse("earning:caseload")))
    assert "Your caseload is over the guide" in text and "21 teachers, 1 more than 20" in text


# ---------------------------------------------------------------------------- a coachee
def test_only_the_active_coach_sees_a_coachee(people, draft):
    url = reverse("earning:coachee", args=[people.earner.pk])
    response = client_for(people.coach).get(url)
    assert response.status_code == 200
    assert reverse("earning:shared_draft", args=[draft.uuid]) in _text(response)
    for outsider in (people.district_coach, people.earner, people.principal, people.stranger):
        assert client_for(outsider).get(url).status_code == 404
    rel = CoachingRelationship.objects.get(coach=people.coach)
    coaching.end_coaching(rel, user=people.earner)
    assert client_for(people.coach).get(url).status_code == 404


# ---------------------------------------------------------------------------- relationships
def test_an_earner_asks_for_coaching_on_their_page(people, django_capture_on_commit_callbacks):
    client = client_for(people.earner)
    page = client.get(reverse("earning:my_coach"))
    assert page.status_code == 200 and people.coach.name in _text(page)
    assert people.far_coach.name not in _text(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("earning:my_coach"), {"coach": people.coach.pk})
    assert response.status_code == 302
    assert CoachingRelationship.objects.filter(coach=people.coach, ended__isnull=True).exists()
    assert Notification.objects.filter(user=people.coach, kind=Kind.COACHING).exists()


@pytest.mark.parametrize("data", [{}, {"coach": "abc"}, {"coach": "far"}])
def test_asking_without_a_coach_of_ones_school_changes_nothing(people, data):
    if data.get("coach") == "far":
        data = {"coach": people.far_coach.pk}
    response = client_for(people.earner).post(reverse("earning:my_coach"), data)
    assert response.status_code == 400
    assert "Choose" in _text(response)
    assert not CoachingRelationship.objects.exists()


def test_the_my_coach_page_is_for_earners(people):
    response = client_for(people.coach).get(reverse("earning:my_coach"))
    assert response.status_code == 403 and "does not have the earner role" in _text(response)


def test_an_earner_without_coaches_nearby_is_told_what_to_do(org_tree, make_user):
    lonely = make_user(Role.EARNER, org_tree["school2"])
    text = _text(client_for(lonely).get(reverse("earning:my_coach")))
    assert "There is no coach at your school or district yet" in text


def test_a_principal_assigns_a_coach_by_email(people):
    client = client_for(people.principal)
    assert client.get(reverse("earning:assign_coach")).status_code == 200
    response = client.post(
        reverse("earning:assign_coach"),
        {"email": people.earner.email.upper(), "coach": people.coach.pk},
    )
    assert response.status_code == 302
    assert CoachingRelationship.objects.filter(coach=people.coach, earner=people.earner).exists()


@pytest.mark.parametrize("email", ["nobody@example.org", "stranger", "not-an-email"])
def test_assigning_to_an_unknown_or_foreign_teacher_changes_nothing(people, email):
    if email == "stranger":
        email = people.stranger.email
    response = client_for(people.principal).post(
        reverse("earning:assign_coach"), {"email": email, "coach": people.coach.pk}
    )
    assert response.status_code == 400
    assert not CoachingRelationship.objects.exists()


def test_assigning_is_for_principals_and_program_admins(people):
    response = client_for(people.coach).get(reverse("earning:assign_coach"))
    assert response.status_code == 403
    assert "neither" in _text(response)


def test_ending_is_for_the_two_people_in_it(people):
    rel, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    url = reverse("earning:end_coaching", args=[rel.pk])
    for outsider in (people.district_coach, people.principal, people.teammate):
        assert client_for(outsider).post(url).status_code == 404
    rel.refresh_from_db()
    assert rel.ended is None
    response = client_for(people.coach).post(url)
    assert response.status_code == 302 and response["Location"] == reverse("earning:caseload")
    rel.refresh_from_db()
    assert rel.ended is not None


# ---------------------------------------------------------------------------- shared drafts
def test_only_a_shared_coach_opens_the_shared_draft(people, draft):
    url = reverse("earning:shared_draft", args=[draft.uuid])
    response = client_for(people.coach).get(url)
    assert response.status_code == 200
    text = _text(response)
    assert "I coached my mentee weekly." in text  # the written part, read-only
    artifact = Artifact.objects.filter(evidence__attempt=draft).first()
    assert reverse("evidence:open", args=[artifact.upload_id, "original"]) in text
    for outsider in (people.district_coach, people.earner, people.principal, people.stranger):
        assert client_for(outsider).get(url).status_code == 404
    share = EvidenceShare.objects.get(attempt=draft, coach=people.coach)
    client_for(people.earner).post(
        reverse("evidence:shares", args=[draft.uuid]), {"share": share.pk, "revoke": "1"}
    )
    assert client_for(people.coach).get(url).status_code == 404


def _comment(user, attempt, body, part=""):
    return client_for(user).post(
        reverse("earning:comment_on_draft", args=[attempt.uuid]),
        {"part": str(part), f"{'part' + str(part) if part else 'whole'}-body": body},
    )


def test_a_coach_comments_on_a_requirement_and_twice_is_once(people, draft):
    requirement = _requirement(draft)
    first = _comment(people.coach, draft, "Name the protocol", requirement.pk)
    assert first.status_code == 302 and first["Location"].endswith(
        f"#part{requirement.pk}-comments"
    )
    second = _comment(people.coach, draft, "Name the protocol", requirement.pk)
    assert second.status_code == 302
    assert DraftComment.objects.get().requirement == requirement
    page = client_for(people.coach).get(reverse("earning:shared_draft", args=[draft.uuid]))
    assert "Name the protocol" in _text(page)


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write your comment"), ("   ", "Write your comment"), ("z" * 2001, "Shorten")],
)
def test_empty_or_too_long_comments_change_nothing(people, draft, body, message):
    response = _comment(people.coach, draft, body, _requirement(draft).pk)
    assert response.status_code == 400
    assert message in _text(response)
    assert not DraftComment.objects.exists()


@pytest.mark.parametrize("part", ["abc", "999999"])
def test_a_comment_on_an_unknown_part_is_404(people, draft, part):
    response = client_for(people.coach).post(
        reverse("earning:comment_on_draft", args=[draft.uuid]), {"part": part, "whole-body": "x"}
    )
    assert response.status_code == 404
    assert not DraftComment.objects.exists()


def test_another_coach_cannot_comment(people, draft):
    assert _comment(people.district_coach, draft, "Hi").status_code == 404
    assert not DraftComment.objects.exists()


def test_after_submission_the_coach_is_told_and_nothing_is_saved(people, draft):
    earning.submit(draft, user=people.earner)
    page = client_for(people.coach).get(reverse("earning:shared_draft", args=[draft.uuid]))
    assert "No new comments now" in _text(page) and "Send the comment" not in _text(page)
    response = _comment(people.coach, draft, "Too late")
    assert response.status_code == 400
    assert "submitted" in _text(response)
    assert not DraftComment.objects.exists()


# ---------------------------------------------------------------------------- the earner's page
def test_the_attempt_page_links_to_sharing_and_shows_comments_to_resolve(people, draft):
    comment, _ = coaching.add_comment(draft, user=people.coach, body="Cite the standard")
    client = client_for(people.earner)
    page = client.get(reverse("earning:attempt", args=[draft.uuid]))
    text = _text(page)
    assert reverse("evidence:shares", args=[draft.uuid]) in text
    assert "Cite the standard" in text and "Mark resolved" in text
    resolve = reverse("earning:resolve_comment", args=[comment.pk])
    assert client_for(people.coach).post(resolve).status_code == 404
    assert client_for(people.stranger).post(resolve).status_code == 404
    response = client.post(resolve)
    assert response.status_code == 302 and response["Location"].endswith("#coach-comments")
    comment.refresh_from_db()
    assert comment.resolved_by == people.earner
    assert client.post(resolve).status_code == 302  # twice: still one resolution
    page = client.get(reverse("earning:attempt", args=[draft.uuid]))
    assert "Resolved" in _text(page) and "Mark resolved" not in _text(page)


def test_an_attempt_not_shared_yet_offers_to_share_with_my_coach(people, version):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.earner)
    text = _text(client_for(people.earner).get(reverse("earning:attempt", args=[attempt.uuid])))
    assert "Share with my coach" in text


def test_sharing_on_the_share_page_notifies_the_coach(
    people,
    version,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    attempt, _ = earning.start_attempt(version, user=people.earner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.earner).post(
            reverse("evidence:shares", args=[attempt.uuid]), {"coach": people.coach.pk}
        )
    assert response.status_code == 302
    assert Notification.objects.filter(user=people.coach, kind=Kind.COACHING).count() == 1
