"""Team invitations by email (issue 11): a PLC invites any educator, in or outside its school
and district; an address without an account gets a sign-up link and joins as invited once that
person signs up with it; bad input changes nothing; invitations are audited and withdrawable."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from microcred.earning import selectors, services, teams
from microcred.earning.models import Attempt, TeamInvitation, TeamMember
from microcred.notifications.models import Notification
from microcred.orgs.models import AuditEvent, Organization, User

from .portfolio_helpers import signed_in, world_fixture  # noqa: F401 (the `world` fixture)

pytestmark = pytest.mark.django_db

NEWCOMER = "new.teacher@elsewhere.org"
PASSWORD = "a-long-Pass-phrase-9"


@pytest.fixture
def team_attempt(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.create_team(attempt, user=world.earner, name="Grade 4 PLC")
    attempt.refresh_from_db()
    return attempt


def invite_url(attempt: Attempt) -> str:
    return reverse("earning:invite", args=[attempt.uuid])


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


def signup_link(message) -> str:
    return re.search(r"http://\S+/accounts/signup/\S+", message.body)[0]


# ---------------------------------------------------------------------------- accounts
def test_an_earner_of_another_district_is_invited_by_email_and_joins(
    world, team_attempt, django_capture_on_commit_callbacks
):
    other = world.other_school_earner  # Oak Middle, Oak City Schools: not the team's district
    assert other.email not in {u.email for u in selectors.school_colleagues(team_attempt)}
    earner = signed_in(world.earner)
    with django_capture_on_commit_callbacks(execute=True):
        response = earner.post(invite_url(team_attempt), {"email": f"  {other.email.upper()} "})
    assert response.status_code == 302
    assert response["Location"] == f"/earn/{team_attempt.uuid}/#team"
    member = TeamMember.objects.get(team=team_attempt.team, user=other)
    assert member.status == TeamMember.Status.INVITED
    assert member.invited_by == world.earner
    assert Notification.objects.filter(user=other, kind="team_invite").exists()
    assert "team.member_invited" in audit_actions()
    assert "is invited" in page_text(earner.get(response["Location"]))

    colleague = signed_in(other)
    assert "Join the team" in page_text(colleague.get("/me/"))
    colleague.post(reverse("earning:respond", args=[member.pk]), {"answer": "accept"})
    assert selectors.attempt_members(team_attempt) == [world.earner, other]
    assert "team.invitation_accepted" in audit_actions()
    # The team's home stays the creator's school.
    team_attempt.team.refresh_from_db()
    assert team_attempt.team.school == world.school
    assert colleague.get(f"/earn/{team_attempt.uuid}/").status_code == 200


def test_the_school_list_still_works_beside_the_email_field(world, team_attempt):
    earner = signed_in(world.earner)
    page = page_text(earner.get(f"/earn/{team_attempt.uuid}/"))
    assert "Or choose a colleague to invite from your school" in page
    earner.post(invite_url(team_attempt), {"invitee": world.colleague.pk})
    assert TeamMember.objects.get(user=world.colleague).status == TeamMember.Status.INVITED
    # Someone from another school is not in the list: a clear message, nothing changed.
    response = earner.post(invite_url(team_attempt), {"invitee": world.other_school_earner.pk})
    assert response.status_code == 400
    assert "invite them by email instead" in page_text(response)
    assert not TeamMember.objects.filter(user=world.other_school_earner).exists()


def test_someone_who_declined_can_be_invited_again(world, team_attempt):
    member = teams.invite_by_email(team_attempt, user=world.earner, email=world.colleague.email)
    services.respond_to_invitation(member, user=world.colleague, accept=False)
    again = teams.invite_by_email(team_attempt, user=world.earner, email=world.colleague.email)
    assert again.pk == member.pk and again.status == TeamMember.Status.INVITED


# ---------------------------------------------------------------------------- no account yet
def test_an_address_without_an_account_gets_a_sign_up_link_and_joins_after_sign_up(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    earner = signed_in(world.earner)
    with django_capture_on_commit_callbacks(execute=True):
        response = earner.post(invite_url(team_attempt), {"email": "New.Teacher@Elsewhere.org"})
    assert response.status_code == 302
    invitation = TeamInvitation.objects.get()
    assert (invitation.email, invitation.team, invitation.invited_by) == (
        NEWCOMER,
        team_attempt.team,
        world.earner,
    )
    assert invitation.pending and len(invitation.token) >= 40
    assert "team.invitation_sent" in audit_actions()
    [message] = mailoutbox
    assert message.to == [NEWCOMER]
    assert "Grade 4 PLC" in message.body and world.version.title in message.body
    page = page_text(earner.get(f"/earn/{team_attempt.uuid}/"))
    assert f"We emailed {NEWCOMER}" in page
    assert f"{NEWCOMER} (invited by email: no account yet)" in page

    # They follow the link, which keeps the invitation in allauth's `next` field.
    link = urlsplit(signup_link(message))
    visitor = Client()
    form = visitor.get(f"{link.path}?{link.query}")
    assert form.status_code == 200
    back = parse_qs(link.query)["next"][0]
    assert f'value="{back}"' in form.content.decode().replace("&amp;", "&")
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.post(
            link.path,
            {"email": NEWCOMER, "password1": PASSWORD, "password2": PASSWORD, "next": back},
        )
    assert response.status_code == 302
    assert response["Location"] == back
    newcomer = User.objects.get(email__iexact=NEWCOMER)
    # The link proved the address: no confirmation email, and the invitation is theirs.
    assert EmailAddress.objects.get(user=newcomer).verified
    assert not [m for m in mailoutbox if "/accounts/confirm-email/" in m.body]
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    member = TeamMember.objects.get(team=team_attempt.team, user=newcomer)
    assert member.status == TeamMember.Status.INVITED and member.invited_by == world.earner
    assert "team.invitation_claimed" in audit_actions()
    assert Notification.objects.filter(user=newcomer, kind="team_invite").exists()

    # Invited is not yet a member: they accept on their page as everyone does.
    assert visitor.get(f"/earn/{team_attempt.uuid}/").status_code == 404
    dashboard = page_text(visitor.get(back))
    assert "Join the team" in dashboard and "Grade 4 PLC" in dashboard
    visitor.post(reverse("earning:respond", args=[member.pk]), {"answer": "accept"})
    assert selectors.is_attempt_member(newcomer, team_attempt)
    assert visitor.get(f"/earn/{team_attempt.uuid}/").status_code == 200
    # The waiting list is empty now; a second sign-in claims nothing twice.
    assert list(teams.pending_invitations(team_attempt)) == []
    assert teams.claim_invitations(newcomer, token=invitation.token) == []


def test_without_the_link_an_invitation_waits_for_a_confirmed_address(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    mailoutbox.clear()
    visitor = Client()
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post(
            reverse("account_signup"),
            {"email": NEWCOMER, "password1": PASSWORD, "password2": PASSWORD},
        )
    newcomer = User.objects.get(email=NEWCOMER)
    # Anyone could type that address at sign-up: nothing joins before it is confirmed.
    assert not TeamMember.objects.filter(user=newcomer).exists()
    [confirmation] = mailoutbox
    confirm_path = urlsplit(
        re.search(r"http://\S+/accounts/confirm-email/\S+", confirmation.body)[0]
    ).path
    visitor.post(confirm_path)
    assert EmailAddress.objects.get(user=newcomer).verified
    assert TeamMember.objects.get(user=newcomer).status == TeamMember.Status.INVITED
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_a_link_used_with_another_address_does_not_join(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    link = urlsplit(signup_link(mailoutbox[0]))
    back = parse_qs(link.query)["next"][0]
    Client().post(
        link.path,
        {
            "email": "someone.else@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": back,
        },
    )
    someone = User.objects.get(email="someone.else@example.org")
    assert not TeamMember.objects.filter(user=someone).exists()
    assert not EmailAddress.objects.get(user=someone).verified
    assert TeamInvitation.objects.get().pending


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Type the email address of the person to invite."),
        ("not-an-email", "Type the whole email address"),
        ("someone@", "Type the whole email address"),
        ("inez@example.org", "That is your own address"),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_message(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks, email, message
):
    if email == "inez@example.org":
        email = world.earner.email.upper()
    before = audit_actions()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.earner).post(invite_url(team_attempt), {"email": email})
    assert response.status_code == 400
    text = page_text(response)
    assert message in text
    assert "Nothing was saved" in text
    assert team_attempt.team.members.count() == 1
    assert not TeamInvitation.objects.exists()
    assert audit_actions() == before
    assert mailoutbox == []


def test_duplicates_are_refused_and_change_nothing(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_by_email(team_attempt, user=world.earner, email=world.colleague.email)
        teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    before = (audit_actions(), len(mailoutbox), TeamMember.objects.count())
    earner = signed_in(world.earner)
    cases = [
        (world.colleague.email, "is invited already; they see the invitation on their page"),
        (NEWCOMER.upper(), "is invited already and has not signed up yet"),
    ]
    for email, message in cases:
        with django_capture_on_commit_callbacks(execute=True):
            response = earner.post(invite_url(team_attempt), {"email": email})
        assert response.status_code == 400
        assert message in page_text(response)
    member = TeamMember.objects.get(user=world.colleague)
    services.respond_to_invitation(member, user=world.colleague, accept=True)
    with pytest.raises(ValidationError, match="on the team already"):
        teams.invite_by_email(team_attempt, user=world.earner, email=world.colleague.email)
    # An active member invites the person who started the attempt: already on the team.
    with pytest.raises(ValidationError, match="on the team already"):
        teams.invite_by_email(team_attempt, user=world.colleague, email=world.earner.email)
    assert (audit_actions()[: len(before[0])], len(mailoutbox)) == (before[0], before[1])
    assert TeamInvitation.objects.count() == 1


def test_no_invitations_once_the_portfolio_is_submitted(world, team_attempt, mailoutbox):
    Attempt.objects.filter(pk=team_attempt.pk).update(status=Attempt.Status.SUBMITTED)
    earner = signed_in(world.earner)
    page = page_text(earner.get(f"/earn/{team_attempt.uuid}/"))
    assert "Send the invitation" not in page
    response = earner.post(invite_url(team_attempt), {"email": NEWCOMER}, follow=True)
    assert "This portfolio cannot change now" in page_text(response)
    assert not TeamInvitation.objects.exists() and mailoutbox == []
    assert team_attempt.team.members.count() == 1


def test_a_team_can_wait_for_only_so_many_sign_ups(world, team_attempt, monkeypatch):
    monkeypatch.setattr(teams, "MAX_WAITING", 2)
    teams.invite_by_email(team_attempt, user=world.earner, email="a@example.net")
    teams.invite_by_email(team_attempt, user=world.earner, email="b@example.net")
    with pytest.raises(ValidationError, match="2 invitations are waiting"):
        teams.invite_by_email(team_attempt, user=world.earner, email="c@example.net")
    assert TeamInvitation.objects.count() == 2


def test_outsiders_get_404_and_change_nothing(world, team_attempt):
    invitation = teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    for outsider in (world.stranger, world.other_school_earner, world.principal):
        client = signed_in(outsider)
        assert client.post(invite_url(team_attempt), {"email": "x@example.net"}).status_code == 404
        response = client.post(invite_url(team_attempt), {"withdraw": f"email-{invitation.pk}"})
        assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.pending
    assert TeamInvitation.objects.count() == 1


# ---------------------------------------------------------------------------- the page
def test_the_invite_form_is_there_even_when_nobody_else_is_at_the_school(
    org_tree, make_user, world
):
    # The only earner of a new school: no colleague to list, the email field all the same.
    school = Organization.objects.create(
        kind=Organization.Kind.SCHOOL, name="Oak High", slug="oak-hs", parent=org_tree["lea2"]
    )
    loner = make_user("earner", school, first_name="Lone", last_name="Teacher")
    attempt, _ = services.start_attempt(world.version, user=loner)
    services.create_team(attempt, user=loner, name="Cross-district PLC")
    page = page_text(signed_in(loner).get(f"/earn/{attempt.uuid}/"))
    assert "already on the team or invited" not in page
    assert "Invite someone to the team" in page
    assert teams.WHO_CAN_BE_INVITED in page
    assert 'type="email" name="email"' in page
    assert "Or choose a colleague to invite from your school" not in page


# ---------------------------------------------------------------------------- withdrawing
def test_withdrawing_an_email_invitation(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    earner = signed_in(world.earner)
    response = earner.post(invite_url(team_attempt), {"withdraw": f"email-{invitation.pk}"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked and invitation.accepted_at is None
    assert "team.invitation_withdrawn" in audit_actions()
    page = page_text(earner.get(response["Location"]))
    assert f"The invitation to {NEWCOMER} is withdrawn." in page
    assert "no account yet" not in page
    # Twice: a clear message.
    again = earner.post(
        invite_url(team_attempt), {"withdraw": f"email-{invitation.pk}"}, follow=True
    )
    assert "was withdrawn already" in page_text(again)
    # The link no longer joins anyone.
    link = urlsplit(signup_link(mailoutbox[0]))
    Client().post(
        link.path,
        {
            "email": NEWCOMER,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": parse_qs(link.query)["next"][0],
        },
    )
    assert not TeamMember.objects.filter(user__email=NEWCOMER).exists()
    # It can be sent again afterwards.
    assert teams.invite_by_email(team_attempt, user=world.earner, email="later@example.net")


def test_withdrawing_an_invitation_to_an_account(world, team_attempt):
    member = teams.invite_by_email(
        team_attempt, user=world.earner, email=world.other_school_earner.email
    )
    earner = signed_in(world.earner)
    assert (
        f'value="member-{member.pk}"' in earner.get(f"/earn/{team_attempt.uuid}/").content.decode()
    )
    response = earner.post(invite_url(team_attempt), {"withdraw": f"member-{member.pk}"})
    assert response.status_code == 302
    assert not TeamMember.objects.filter(pk=member.pk).exists()
    assert list(selectors.invitations_for(world.other_school_earner)) == []
    event = AuditEvent.objects.get(action="team.member_invitation_withdrawn")
    assert event.actor == world.earner and event.data["invitee"] == world.other_school_earner.pk
    # The invitee's old button answers 404; an answered invitation cannot be withdrawn.
    answer = signed_in(world.other_school_earner).post(
        reverse("earning:respond", args=[member.pk]), {"answer": "accept"}
    )
    assert answer.status_code == 404
    joined = teams.invite_by_email(team_attempt, user=world.earner, email=world.colleague.email)
    services.respond_to_invitation(joined, user=world.colleague, accept=True)
    with pytest.raises(ValidationError, match="has answered already"):
        teams.withdraw_member_invitation(team_attempt, user=world.earner, member_id=joined.pk)
    for bad in ("member-abc", "nothing", f"member-{joined.pk + 999}"):
        page = earner.post(invite_url(team_attempt), {"withdraw": bad}, follow=True)
        assert "There is no such invitation on this team." in page_text(page)
    assert selectors.is_attempt_member(world.colleague, team_attempt)


def test_an_invitation_of_another_team_cannot_be_withdrawn_from_this_one(world, team_attempt):
    other_attempt, _ = services.start_attempt(world.version, user=world.other_school_earner)
    services.create_team(other_attempt, user=world.other_school_earner, name="Oak PLC")
    theirs = teams.invite_by_email(other_attempt, user=world.other_school_earner, email=NEWCOMER)
    with pytest.raises(ValidationError, match="no such invitation"):
        teams.withdraw_invitation(team_attempt, user=world.earner, invitation_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.pending


def test_an_account_made_meanwhile_claims_the_invitation_by_signing_in_with_the_link(
    world, team_attempt, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_by_email(team_attempt, user=world.earner, email=NEWCOMER)
    # Their district added them in the meantime (an unconfirmed address).
    newcomer = User.objects.create_user(email=NEWCOMER, password=PASSWORD)
    EmailAddress.objects.create(user=newcomer, email=NEWCOMER, primary=True, verified=False)
    login = urlsplit(re.search(r"http://\S+/accounts/login/\S+", mailoutbox[0].body)[0])
    back = parse_qs(login.query)["next"][0]
    response = Client().post(login.path, {"login": NEWCOMER, "password": PASSWORD, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert TeamMember.objects.get(user=newcomer).status == TeamMember.Status.INVITED
    assert not TeamInvitation.objects.get().pending
