"""Coaches (issue 11), through the services: forming and ending a coaching relationship (asked
for or assigned, reactivated after an end), the caseload, sharing with a coach, and comments on
shared drafts (only before submission, only while shared). Every change leaves an audit row;
refusals change nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from microcred.assessment.models import CoachingRelationship
from microcred.catalog.models import EvidenceRequirement
from microcred.earning import coaching
from microcred.earning import services as earning
from microcred.earning.evidence_access import revoke_share
from microcred.earning.models import Attempt, DraftComment, EvidenceShare
from microcred.notifications.models import Kind, Notification
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.conftest import version  # noqa: F401  (fixture)
from tests.assessment.helpers import fill_portfolio

pytestmark = pytest.mark.django_db


class People:
    def __init__(self, org_tree, make_user) -> None:
        school, other_school = org_tree["school1"], org_tree["school2"]
        self.earner = make_user(Role.EARNER, school, first_name="Inez", last_name="Earner")
        self.teammate = make_user(Role.EARNER, school, first_name="Tam", last_name="Mate")
        self.coach = make_user(Role.COACH, school, first_name="Cora", last_name="Coach")
        self.district_coach = make_user(Role.COACH, org_tree["lea1"], first_name="Dee")
        self.far_coach = make_user(Role.COACH, other_school, first_name="Far")
        self.principal = make_user(Role.PRINCIPAL, school, first_name="Pat")
        self.other_principal = make_user(Role.PRINCIPAL, other_school, first_name="Otto")
        self.district_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Ada")
        self.other_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"], first_name="Oak")
        self.stranger = make_user(Role.EARNER, other_school, first_name="Stan")


@pytest.fixture
def people(org_tree, make_user) -> People:
    return People(org_tree, make_user)


@pytest.fixture
def draft(people, version):  # noqa: F811
    """Inez's attempt with every part filled, shared with her coach."""
    attempt, _ = earning.start_attempt(version, user=people.earner)
    fill_portfolio(attempt, people.earner)
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    coaching.share_with_coach(attempt, people.coach, user=people.earner)
    return attempt


def _requirement(attempt: Attempt) -> EvidenceRequirement:
    return attempt.version.evidence_requirements.order_by("order").first()


def _actions(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# ---------------------------------------------------------------------------- relationships
def test_an_earner_asks_a_coach_of_their_school_or_district(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rel, changed = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert changed and rel.ended is None
    assert _actions("coaching.started") == 1
    assert Notification.objects.filter(user=people.coach, kind=Kind.COACHING).count() == 1
    _, changed = coaching.start_coaching(people.earner, people.district_coach, user=people.earner)
    assert changed
    assert {c.coach for c in coaching.current_coaches(people.earner)} == {
        people.coach,
        people.district_coach,
    }


def test_asking_the_same_coach_twice_changes_nothing(people):
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    _, changed = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert not changed
    assert CoachingRelationship.objects.count() == 1
    assert _actions("coaching.started") == 1


@pytest.mark.parametrize("who", ["far_coach", "teammate", "earner"])
def test_a_coach_from_elsewhere_or_a_non_coach_is_refused(people, who):
    with pytest.raises(ValidationError) as caught:
        coaching.start_coaching(people.earner, getattr(people, who), user=people.earner)
    assert "coach" in caught.value.message_dict
    assert not CoachingRelationship.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="coaching.").exists()


def test_someone_without_an_earner_role_cannot_be_coached(people):
    with pytest.raises(ValidationError):
        coaching.start_coaching(people.principal, people.coach, user=people.principal)
    assert not CoachingRelationship.objects.exists()


@pytest.mark.parametrize("who", ["principal", "district_admin"])
def test_the_principal_or_a_program_admin_above_the_school_assigns_a_coach(
    people, who, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _, changed = coaching.start_coaching(people.earner, people.coach, user=getattr(people, who))
    assert changed
    event = AuditEvent.objects.get(action="coaching.started")
    assert event.actor == getattr(people, who)
    # The earner hears who their coach is; the coach hears who they coach.
    assert Notification.objects.filter(user=people.earner, kind=Kind.COACHING).exists()
    assert Notification.objects.filter(user=people.coach, kind=Kind.COACHING).exists()


@pytest.mark.parametrize("who", ["other_principal", "other_admin", "teammate", "coach"])
def test_nobody_else_assigns_a_coach(people, who):
    with pytest.raises(PermissionDenied):
        coaching.start_coaching(people.earner, people.coach, user=getattr(people, who))
    assert not CoachingRelationship.objects.exists()


@pytest.mark.parametrize("ender", ["earner", "coach"])
def test_either_side_ends_it_and_starting_again_reactivates_the_same_row(people, ender):
    rel, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert coaching.end_coaching(rel, user=getattr(people, ender)) is True
    assert coaching.end_coaching(rel, user=getattr(people, ender)) is False  # a second click
    rel.refresh_from_db()
    assert rel.ended is not None
    assert _actions("coaching.ended") == 1
    assert not coaching.current_coaches(people.earner).exists()

    again, changed = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert changed and again.pk == rel.pk and again.ended is None
    assert CoachingRelationship.objects.count() == 1
    assert _actions("coaching.restarted") == 1


def test_nobody_else_ends_a_coaching(people):
    rel, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    for outsider in (people.principal, people.district_coach, people.teammate):
        with pytest.raises(PermissionDenied):
            coaching.end_coaching(rel, user=outsider)
    rel.refresh_from_db()
    assert rel.ended is None
    assert _actions("coaching.ended") == 0


def test_an_ended_coaching_no_longer_counts_as_an_assessor_conflict(people):
    """The conflict index reads only active relationships: ending one lifts the conflict,
    restarting it (the same row) brings it back."""
    rel, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    active = CoachingRelationship.objects.filter(coach=people.coach, ended__isnull=True)
    assert active.exists()
    coaching.end_coaching(rel, user=people.coach)
    assert not active.exists()
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert active.exists()


# ---------------------------------------------------------------------------- the caseload
def test_the_caseload_lists_coachees_with_plan_attempts_sharing_and_open_comments(people, draft):
    coaching.add_comment(
        draft, user=people.coach, body="Name the protocol.", requirement=_requirement(draft)
    )
    load = coaching.caseload(people.coach)
    assert load.size == 1 and load.over_guide == 0
    row = load.rows[0]
    assert row.earner == people.earner
    assert [line.attempt for line in row.attempts] == [draft]
    assert row.attempts[0].shared and row.attempts[0].open_comments == 1
    assert row.open_comments == 1
    # Another coach sees nothing of it: not theirs.
    assert coaching.caseload(people.district_coach).size == 0


def test_a_team_attempt_counts_for_a_coachee_on_the_team(people, version):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.teammate)
    earning.create_team(attempt, user=people.teammate, name="PLC")
    member = earning.invite(attempt, user=people.teammate, invitee_id=people.earner.pk)
    earning.respond_to_invitation(member, user=people.earner, accept=True)
    coaching.start_coaching(people.earner, people.coach, user=people.earner)
    row = coaching.caseload(people.coach).rows[0]
    assert [line.attempt for line in row.attempts] == [attempt]
    assert not row.attempts[0].shared


def test_a_caseload_over_twenty_says_by_how_much(people, make_user, org_tree):
    for n in range(22):
        earner = make_user(Role.EARNER, org_tree["school1"], last_name=f"E{n:02d}")
        coaching.start_coaching(earner, people.coach, user=earner)
    load = coaching.caseload(people.coach)
    assert load.size == 22 and load.over_guide == 2


def test_a_coachee_is_found_only_by_their_active_coach(people):
    rel, _ = coaching.start_coaching(people.earner, people.coach, user=people.earner)
    assert coaching.coachee_for(people.coach, people.earner.pk) == rel
    with pytest.raises(Http404):
        coaching.coachee_for(people.district_coach, people.earner.pk)
    coaching.end_coaching(rel, user=people.earner)
    with pytest.raises(Http404):
        coaching.coachee_for(people.coach, people.earner.pk)


# ---------------------------------------------------------------------------- sharing
def test_sharing_tells_the_coach_once(people, version, django_capture_on_commit_callbacks):  # noqa: F811
    attempt, _ = earning.start_attempt(version, user=people.earner)
    with django_capture_on_commit_callbacks(execute=True):
        first = coaching.share_with_coach(attempt, people.district_coach, user=people.earner)
        again = coaching.share_with_coach(attempt, people.district_coach, user=people.earner)
    assert first == again
    notes = Notification.objects.filter(user=people.district_coach, kind=Kind.COACHING)
    assert notes.count() == 1
    assert str(attempt.uuid) in notes.get().url
    assert _actions("evidence.shared") == 1


def test_sharing_with_a_coach_from_elsewhere_tells_nobody(
    people,
    version,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    attempt, _ = earning.start_attempt(version, user=people.earner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        coaching.share_with_coach(attempt, people.far_coach, user=people.earner)
    assert not Notification.objects.exists()
    assert not EvidenceShare.objects.exists()


# ---------------------------------------------------------------------------- comments
def test_a_shared_coach_comments_on_a_requirement_and_the_earner_hears(
    people, draft, django_capture_on_commit_callbacks
):
    requirement = _requirement(draft)
    with django_capture_on_commit_callbacks(execute=True):
        comment, created = coaching.add_comment(
            draft, user=people.coach, body="  Say which protocol.  ", requirement=requirement
        )
    assert created and comment.body == "Say which protocol."
    assert comment.requirement == requirement
    event = AuditEvent.objects.get(action="coaching.commented")
    assert event.actor == people.coach and event.data["attempt"] == str(draft.uuid)
    note = Notification.objects.get(user=people.earner, kind=Kind.COACHING)
    assert note.url.endswith("#coach-comments") and requirement.title in note.title


def test_the_same_comment_sent_twice_is_saved_once(people, draft):
    requirement = _requirement(draft)
    first, _ = coaching.add_comment(draft, user=people.coach, body="Hi", requirement=requirement)
    second, created = coaching.add_comment(
        draft, user=people.coach, body="Hi", requirement=requirement
    )
    assert first == second and not created
    assert DraftComment.objects.count() == 1
    assert _actions("coaching.commented") == 1


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_empty_or_too_long_comments_are_refused(people, draft, body):
    with pytest.raises(ValidationError) as caught:
        coaching.add_comment(draft, user=people.coach, body=body)
    assert "body" in caught.value.message_dict
    assert not DraftComment.objects.exists()
    assert _actions("coaching.commented") == 0


def test_a_comment_of_exactly_the_limit_is_kept(people, draft):
    comment, _ = coaching.add_comment(draft, user=people.coach, body="y" * 2000)
    assert len(comment.body) == 2000


def test_a_requirement_of_another_micro_credential_is_refused(people, draft):
    other = EvidenceRequirement(version_id=draft.version_id + 1000, title="Elsewhere")
    with pytest.raises(ValidationError):
        coaching.add_comment(draft, user=people.coach, body="Hi", requirement=other)
    assert not DraftComment.objects.exists()


def test_only_a_coach_with_an_active_share_comments(people, draft):
    for outsider in (people.district_coach, people.teammate, people.principal):
        with pytest.raises(PermissionDenied):
            coaching.add_comment(draft, user=outsider, body="Hello")
    share = EvidenceShare.objects.get(attempt=draft, coach=people.coach)
    coaching.add_comment(draft, user=people.coach, body="Before revoking")
    assert revoke_share(share, user=people.earner)
    with pytest.raises(PermissionDenied):
        coaching.add_comment(draft, user=people.coach, body="After revoking")
    with pytest.raises(Http404):
        coaching.shared_attempt(people.coach, draft.uuid)
    # What was said stays on record, and the earner still sees it.
    assert [c.body for c in DraftComment.objects.all()] == ["Before revoking"]
    view = coaching.earner_comments(people.earner, draft)
    assert view is not None and [c.body for c in view.comments] == ["Before revoking"]


def test_no_comment_after_submission_until_a_not_yet_makes_it_a_draft_again(people, draft):
    submission = earning.submit(draft, user=people.earner)
    draft.refresh_from_db()
    assert coaching.comment_refusal(draft)
    with pytest.raises(ValidationError) as caught:
        coaching.add_comment(draft, user=people.coach, body="Too late")
    assert "submitted" in " ".join(caught.value.messages)
    assert not DraftComment.objects.exists()

    earning.apply_decision(submission, "not_yet")
    draft.refresh_from_db()
    assert draft.status == Attempt.Status.NOT_YET
    assert coaching.comment_refusal(draft) is None
    comment, created = coaching.add_comment(draft, user=people.coach, body="Revise part one")
    assert created and comment.pk


def test_the_earner_or_a_teammate_resolves_a_comment_once(people, draft):
    comment, _ = coaching.add_comment(draft, user=people.coach, body="Check the word count")
    for outsider in (people.coach, people.district_coach, people.stranger):
        with pytest.raises(PermissionDenied):
            coaching.resolve_comment(comment, user=outsider)
        with pytest.raises(Http404):
            coaching.comment_for_member(outsider, comment.pk)
    assert coaching.resolve_comment(comment, user=people.earner) is True
    assert coaching.resolve_comment(comment, user=people.earner) is False
    comment.refresh_from_db()
    assert comment.resolved_by == people.earner and comment.resolved_at is not None
    assert _actions("coaching.comment_resolved") == 1
    # Resolved, it no longer counts as open on the caseload.
    assert coaching.caseload(people.coach).rows[0].open_comments == 0
