"""DESIGN.md invariants as the earning side keeps them, end to end with the assessment app:
an attempt stays pinned (4), a submitted portfolio never changes (3), a team earns once per
member (5), evidence stays with its earners (6), bad input changes nothing (7)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from microcred.assessment import services as assessment
from microcred.assessment.models import AssessorProfile, Assignment, Award
from microcred.earning import selectors, services
from microcred.earning.models import Attempt, FrozenSubmissionError, Submission
from microcred.orgs.models import Role

from ..assessment.helpers import feedback_for_all, marks_for, qualify_for
from ..catalog.factories import publish_next_version
from .portfolio_helpers import (
    ready_portfolio,
    signed_in,
    world_fixture,  # noqa: F401 (the `world` fixture)
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessor(world, make_user, org_tree):
    user = make_user(Role.ASSESSOR, org_tree["assess"])
    profile = AssessorProfile.objects.create(user=user, home_organization=org_tree["assess"])
    qualify_for(profile, world.version.micro_credential)
    return profile


def _score(submission: Submission, assessor: AssessorProfile, total: int) -> None:
    assignment = Assignment.objects.get(submission=submission, status="assigned")
    version = submission.attempt.version
    assessment.submit_score(
        assignment,
        assessor=assessor.user,
        component_points=marks_for(version, total),
        feedback=feedback_for_all(version),
        overall_feedback="Specific, kind and useful.",
        minutes_spent=30,
    )


def test_a_team_attempt_round_trip_not_yet_then_earned_by_every_member(
    world, assessor, django_capture_on_commit_callbacks
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    services.create_team(attempt, user=world.earner, name="PLC")
    member = services.invite(attempt, user=world.earner, invitee_id=world.colleague.pk)
    services.respond_to_invitation(member, user=world.colleague, accept=True)

    # A new version appears while the team works: the attempt stays where it started.
    people = world.catalog
    publish_next_version(world.version.micro_credential, people.author, people.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.submit(attempt, user=world.colleague)
    assert Assignment.objects.filter(submission=first).exists()  # on_submission ran
    with django_capture_on_commit_callbacks(execute=True):
        _score(first, assessor, total=10)  # below the passing band
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.NOT_YET
    page = signed_in(world.colleague).get(f"/earn/{attempt.uuid}/").content.decode()
    assert "Specific, kind and useful." in page  # the assessor's feedback, read back

    services.save_text(attempt, world.reflection, user=world.earner, text="Revised reflection.")
    with django_capture_on_commit_callbacks(execute=True):
        second = services.submit(attempt, user=world.earner)
    assert second.number == 2
    with django_capture_on_commit_callbacks(execute=True):
        _score(second, Assignment.objects.get(submission=second).assessor, total=18)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EARNED
    assert attempt.version_id == world.version.pk
    assert set(Award.objects.values_list("earner", flat=True)) == {
        world.earner.pk,
        world.colleague.pk,
    }
    # Both snapshots are as they were sent; the history shows both decisions.
    first.refresh_from_db()
    assert first.snapshot["items"][2]["text"] == "Wait time matters."
    history = [
        (s.number, selectors.feedback_for(s).outcome) for s in selectors.submissions_of(attempt)
    ]
    assert history == [(2, "earned"), (1, "not_yet")]


def test_a_submitted_snapshot_cannot_be_changed_through_the_model(
    world, django_capture_on_commit_callbacks
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    submission = services.submit(attempt, user=world.earner)
    original = submission.snapshot
    for change in (
        lambda s: s["items"][1]["artifacts"][0].update(sha256="0" * 64),
        lambda s: s["items"].pop(),
        lambda s: s.update(number=7),
    ):
        fresh = Submission.objects.get(pk=submission.pk)
        change(fresh.snapshot)
        with pytest.raises(FrozenSubmissionError):
            fresh.save()
    assert Submission.objects.get(pk=submission.pk).snapshot == original
    # Editing the live portfolio after submitting is refused too.
    with pytest.raises(ValidationError):
        services.save_text(attempt, world.written, user=world.earner, text="After the fact")
    assert Submission.objects.get(pk=submission.pk).snapshot == original


def test_apply_decision_refuses_nonsense_and_withdrawn(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    submission = services.submit(attempt, user=world.earner)
    with pytest.raises(ValueError):
        services.apply_decision(submission, "maybe")
    services.withdraw(submission, user=world.earner)
    with pytest.raises(ValidationError):
        services.apply_decision(submission, "earned")
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS


def test_another_earner_opening_every_page_gets_404_and_nothing_changes(
    world, django_capture_on_commit_callbacks
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    artifact = attempt.evidence.get(requirement=world.video).artifacts.get()
    note = artifact.annotations.get()
    before = (
        list(attempt.evidence.values_list("text", flat=True)),
        list(artifact.annotations.values_list("seconds", "note")),
    )
    base = f"/earn/{attempt.uuid}"
    intruder = signed_in(world.other_school_earner)
    gets = [f"{base}/", f"{base}/notes/{note.pk}/"]
    posts = {
        f"{base}/parts/{world.written.pk}/": {f"part{world.written.pk}-text": "Mine now"},
        f"{base}/parts/{world.video.pk}/files/": {"upload": str(artifact.upload_id)},
        f"{base}/files/{artifact.pk}/remove/": {},
        f"{base}/files/{artifact.pk}/notes/": {f"note{artifact.pk}-time": "0:01"},
        f"{base}/notes/{note.pk}/": {"time": "0:02", "note": "x"},
        f"{base}/notes/{note.pk}/delete/": {},
        f"{base}/submit/": {},
        f"{base}/submissions/1/withdraw/": {},
        f"{base}/team/": {"name": "Takeover"},
        f"{base}/team/invite/": {"invitee": world.other_school_earner.pk},
    }
    assert [intruder.get(url).status_code for url in gets] == [404, 404]
    assert [intruder.post(url, data).status_code for url, data in posts.items()] == [404] * len(
        posts
    )
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS and attempt.team is None
    assert not Submission.objects.exists()
    assert before == (
        list(attempt.evidence.values_list("text", flat=True)),
        list(artifact.annotations.values_list("seconds", "note")),
    )
