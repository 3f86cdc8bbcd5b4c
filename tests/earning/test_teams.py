"""Team attempts: invite colleagues of the same school only, accept or decline, every active
member sees and edits the one portfolio and is credited; nobody else sees it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from microcred.earning import selectors, services
from microcred.earning.models import TeamMember
from microcred.notifications.models import Notification

from .portfolio_helpers import signed_in, world_fixture  # noqa: F401 (the `world` fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_attempt(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.create_team(attempt, user=world.earner, name="Grade 4 PLC")
    attempt.refresh_from_db()
    return attempt


def test_only_colleagues_of_the_same_school_can_be_invited(world, team_attempt):
    colleagues = set(selectors.school_colleagues(team_attempt))
    assert colleagues == {world.colleague, world.stranger}
    with pytest.raises(ValidationError, match="from your school"):
        services.invite(team_attempt, user=world.earner, invitee_id=world.other_school_earner.pk)
    # The principal holds no earner role: not invitable either.
    with pytest.raises(ValidationError):
        services.invite(team_attempt, user=world.earner, invitee_id=world.principal.pk)
    assert team_attempt.team.members.count() == 1


def test_invite_accept_and_both_edit_and_see(
    world, team_attempt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = services.invite(team_attempt, user=world.earner, invitee_id=world.colleague.pk)
    assert Notification.objects.filter(user=world.colleague, kind="team_invite").exists()
    # Invited is not yet a member.
    assert not selectors.is_attempt_member(world.colleague, team_attempt)
    assert list(selectors.invitations_for(world.colleague)) == [member]
    with pytest.raises(PermissionDenied):
        services.respond_to_invitation(member, user=world.stranger, accept=True)

    services.respond_to_invitation(member, user=world.colleague, accept=True)
    assert selectors.attempt_members(team_attempt) == [world.earner, world.colleague]
    services.save_text(team_attempt, world.written, user=world.colleague, text="Our shared plan.")
    services.save_text(
        team_attempt, world.reflection, user=world.earner, text="We learned together."
    )
    page = signed_in(world.colleague).get(f"/earn/{team_attempt.uuid}/")
    assert page.status_code == 200
    assert "Our shared plan." in page.content.decode()
    assert "We learned together." in page.content.decode()
    assert "Grade 4 PLC" in page.content.decode()
    dashboard = signed_in(world.colleague).get("/me/").content.decode()
    assert world.version.title in dashboard

    with pytest.raises(ValidationError, match="already answered"):
        services.respond_to_invitation(member, user=world.colleague, accept=False)


def test_a_declined_invitation_gives_no_access(world, team_attempt):
    member = services.invite(team_attempt, user=world.earner, invitee_id=world.colleague.pk)
    services.respond_to_invitation(member, user=world.colleague, accept=False)
    assert TeamMember.objects.get(pk=member.pk).status == TeamMember.Status.DECLINED
    assert selectors.attempt_members(team_attempt) == [world.earner]
    assert signed_in(world.colleague).get(f"/earn/{team_attempt.uuid}/").status_code == 404


def test_non_members_get_404_on_team_pages(world, team_attempt):
    services.invite(team_attempt, user=world.earner, invitee_id=world.colleague.pk)
    for outsider in (world.stranger, world.other_school_earner, world.principal):
        client = signed_in(outsider)
        assert client.get(f"/earn/{team_attempt.uuid}/").status_code == 404
        response = client.post(f"/earn/{team_attempt.uuid}/team/invite/", {"invitee": outsider.pk})
        assert response.status_code == 404
    assert team_attempt.team.members.count() == 2


def test_only_the_starter_creates_a_team_and_only_once(world, team_attempt):
    with pytest.raises(ValidationError, match="already has a team"):
        services.create_team(team_attempt, user=world.earner, name="Again")
    member = services.invite(team_attempt, user=world.earner, invitee_id=world.colleague.pk)
    services.respond_to_invitation(member, user=world.colleague, accept=True)
    with pytest.raises(PermissionDenied):
        services.create_team(team_attempt, user=world.colleague, name="Mine")


def test_team_pages_through_http(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    earner = signed_in(world.earner)
    response = earner.post(f"/earn/{attempt.uuid}/team/", {"name": ""})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.team is None
    earner.post(f"/earn/{attempt.uuid}/team/", {"name": "PLC"})
    attempt.refresh_from_db()
    assert attempt.team.name == "PLC"
    earner.post(f"/earn/{attempt.uuid}/team/invite/", {"invitee": world.colleague.pk})
    member = TeamMember.objects.get(user=world.colleague)
    # Another person cannot answer someone else's invitation.
    assert (
        signed_in(world.stranger)
        .post(f"/earn/invitations/{member.pk}/", {"answer": "accept"})
        .status_code
        == 404
    )
    colleague = signed_in(world.colleague)
    assert "Join the team" in colleague.get("/me/").content.decode()
    response = colleague.post(f"/earn/invitations/{member.pk}/", {"answer": "accept"})
    assert response["Location"] == f"/earn/{attempt.uuid}/"
    assert selectors.is_attempt_member(world.colleague, attempt)


def test_no_joining_a_team_whose_portfolio_is_submitted(
    world, team_attempt, django_capture_on_commit_callbacks
):
    member = services.invite(team_attempt, user=world.earner, invitee_id=world.colleague.pk)
    services.save_text(team_attempt, world.written, user=world.earner, text="Plan.")
    team_attempt.status = team_attempt.Status.SUBMITTED
    team_attempt.save()
    with pytest.raises(ValidationError, match="cannot take new members"):
        services.respond_to_invitation(member, user=world.colleague, accept=True)
    assert TeamMember.objects.get(pk=member.pk).status == TeamMember.Status.INVITED
