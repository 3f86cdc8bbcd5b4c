"""Team invitations by email: a team (a PLC) may invite any educator, in or outside its school
and district, by the address they use for work.

- An address with an account gets the usual invitation (`TeamMember` "invited" and a
  notification), through `services.invite_member`.
- An address without one gets a `TeamInvitation` and an email with a sign-up link. The link
  carries the invitation's token through allauth's `next` parameter; when that person signs up
  (or signs in) with the invited address, the invitation turns into an ordinary `TeamMember`
  invitation, which they then accept or decline on their page as everyone does.

Signing up through the link proves the address (the link only reached that inbox), so the
address is marked verified. Without the link, an invitation is claimed only by an address
verified through allauth: nobody joins a team's evidence (invariant 6) by typing someone
else's address at sign-up.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from allauth.account.signals import email_confirmed, user_logged_in, user_signed_up
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from microcred.orgs.models import User
from microcred.orgs.services import record_audit

from . import services
from .models import Attempt, TeamInvitation, TeamMember

# The query parameter of the dashboard address the sign-up link returns to.
TOKEN_PARAM = "team_invitation"
# Invitations to addresses without an account: how many may wait at once, and how many a
# team may send in all (withdrawn ones included), so the form cannot be used to send mail
# in bulk.
MAX_WAITING = 10
MAX_SENT = 50

WHO_CAN_BE_INVITED = (
    "You can invite any teacher or school leader: from your school, another school or another "
    "district. Type the email address they use for work. If they have no microcred account "
    "yet, we email them a link to create one."
)


# ---------------------------------------------------------------------------- selectors
def pending_invitations(attempt: Attempt) -> QuerySet[TeamInvitation]:
    """Invitations of the attempt's team still waiting for someone to sign up."""
    if attempt.team_id is None:
        return TeamInvitation.objects.none()
    return TeamInvitation.objects.filter(
        team_id=attempt.team_id, accepted_at__isnull=True, revoked=False
    ).order_by("created")


def account_for(email: str) -> User | None:
    """The account that uses this address: its sign-in address, else a verified extra one."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    return address.user if address else None


def _own_addresses(user: Any) -> set[str]:
    from allauth.account.models import EmailAddress

    found = {(user.email or "").lower()}
    found |= {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    return found - {""}


def signup_url(invitation: TeamInvitation) -> str:
    """allauth's sign-up page, returning to the dashboard with the invitation's token."""
    back = f"{reverse('web:dashboard')}?{urlencode({TOKEN_PARAM: invitation.token})}"
    return f"{settings.SITE_URL}{reverse('account_signup')}?{urlencode({'next': back})}"


def login_url(invitation: TeamInvitation) -> str:
    back = f"{reverse('web:dashboard')}?{urlencode({TOKEN_PARAM: invitation.token})}"
    return f"{settings.SITE_URL}{reverse('account_login')}?{urlencode({'next': back})}"


# ---------------------------------------------------------------------------- services
def clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Type the email address of the person to invite."})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {
                "email": f"“{raw.strip()[:80]}” is not an email address. Type it in full, such "
                "as name@school.org."
            }
        ) from None
    return email


@transaction.atomic
def invite_by_email(attempt: Attempt, *, user: Any, email: str) -> TeamMember | TeamInvitation:
    """Invite whoever uses `email`: a `TeamMember` invitation when they have an account, else
    a `TeamInvitation` and a sign-up email. Refusals change nothing."""
    attempt = services._editable(attempt, user)
    if attempt.team_id is None:
        raise ValidationError("Create a team first.")
    email = clean_email(email)
    if email in _own_addresses(user):
        raise ValidationError({"email": "That is your own address: you are on the team already."})
    account = account_for(email)
    if account is not None:
        if account.pk == user.pk:
            raise ValidationError(
                {"email": "That is your own address: you are on the team already."}
            )
        if not account.is_active:
            raise ValidationError(
                {
                    "email": f"We cannot invite {email}: that account is closed. Ask them which "
                    "address they use now."
                }
            )
        return services.invite_member(attempt, user=user, invitee=account)
    team = attempt.team
    waiting = pending_invitations(attempt)
    if waiting.filter(email=email).exists():
        raise ValidationError(
            {
                "email": f"{email} is invited already and has not signed up yet. You can withdraw "
                "that invitation below if the address is wrong."
            }
        )
    if waiting.count() >= MAX_WAITING:
        raise ValidationError(
            {
                "email": f"{MAX_WAITING} invitations are waiting for people to sign up. Withdraw "
                "one that is not coming before you invite someone else."
            }
        )
    if team.email_invitations.count() >= MAX_SENT:
        raise ValidationError(
            {
                "email": "This team has sent as many email invitations as it can. Ask your "
                "district's program staff for help."
            }
        )
    invitation = TeamInvitation.objects.create(
        team=team, email=email, token=secrets.token_urlsafe(32), invited_by=user
    )
    record_audit(
        user,
        "team.invitation_sent",
        invitation,
        data={"team": team.pk, "attempt": str(attempt.uuid), "email": email},
    )
    transaction.on_commit(lambda: send_invitation_email.enqueue(invitation.pk))
    return invitation


@transaction.atomic
def withdraw_invitation(attempt: Attempt, *, user: Any, invitation_id: int) -> TeamInvitation:
    """Withdraw an invitation still waiting for a sign-up; the row stays, marked revoked."""
    attempt = services._editable(attempt, user)
    invitation = (
        TeamInvitation.objects.select_for_update()
        .filter(pk=invitation_id, team_id=attempt.team_id)
        .first()
    )
    if invitation is None or attempt.team_id is None:
        raise ValidationError("There is no such invitation on this team.")
    if invitation.revoked:
        raise ValidationError(f"The invitation to {invitation.email} was withdrawn already.")
    if invitation.accepted_at is not None:
        raise ValidationError(
            f"{invitation.email} has signed up already; their invitation is listed with the "
            "team's members."
        )
    invitation.revoked = True
    invitation.save(update_fields=["revoked"])
    record_audit(
        user,
        "team.invitation_withdrawn",
        invitation,
        data={"team": attempt.team_id, "attempt": str(attempt.uuid), "email": invitation.email},
    )
    return invitation


@transaction.atomic
def withdraw_member_invitation(attempt: Attempt, *, user: Any, member_id: int) -> str:
    """Withdraw an invitation a person with an account has not answered yet. The row goes (an
    unanswered invitation gave no access); the audit event keeps who, whom and when. Returns
    the person's name for the page."""
    attempt = services._editable(attempt, user)
    member = (
        TeamMember.objects.select_for_update()
        .select_related("user")
        .filter(pk=member_id, team_id=attempt.team_id)
        .first()
    )
    if member is None or attempt.team_id is None:
        raise ValidationError("There is no such invitation on this team.")
    if member.status != TeamMember.Status.INVITED:
        raise ValidationError(
            f"{member.user} has answered already ({member.get_status_display().lower()}), "
            "so there is no invitation left to withdraw."
        )
    name = str(member.user)
    record_audit(
        user,
        "team.member_invitation_withdrawn",
        member,
        data={"team": attempt.team_id, "attempt": str(attempt.uuid), "invitee": member.user_id},
    )
    member.delete()
    return name


def claim_invitations(user: Any, *, token: str | None = None) -> list[TeamMember]:
    """Turn the invitations waiting for this person's addresses into team invitations on
    their page. `token` comes from the invitation link: it proves the invited address when the
    account uses it. Idempotent: a claimed invitation is never claimed twice."""
    if user is None or not getattr(user, "is_active", False) or user.pk is None:
        return []
    from allauth.account.models import EmailAddress

    members: list[TeamMember] = []
    with transaction.atomic():
        addresses = list(EmailAddress.objects.filter(user=user))
        verified = {a.email.lower() for a in addresses if a.verified}
        if token:
            linked = TeamInvitation.objects.filter(
                token=token, accepted_at__isnull=True, revoked=False
            ).first()
            own = {(user.email or "").lower()} | {a.email.lower() for a in addresses}
            if linked is not None and linked.email in own:
                EmailAddress.objects.filter(user=user, email__iexact=linked.email).update(
                    verified=True
                )
                verified.add(linked.email)
        if not verified:
            return []
        invitations = (
            # Only the invitations are locked: PostgreSQL refuses FOR UPDATE on the nullable
            # side of the outer joins select_related makes (the team's attempt, the inviter).
            TeamInvitation.objects.select_for_update(of=("self",))
            .filter(email__in=verified, accepted_at__isnull=True, revoked=False)
            .select_related("team__attempt__version", "invited_by")
        )
        for invitation in invitations:
            member = TeamMember.objects.filter(team=invitation.team, user=user).first()
            if member is None:
                member = TeamMember.objects.create(
                    team=invitation.team,
                    user=user,
                    status=TeamMember.Status.INVITED,
                    invited_by=invitation.invited_by,
                )
                attempt = invitation.team.attempt
                services._notify(
                    [user],
                    "team_invite",
                    title=(
                        f"{invitation.invited_by or 'A colleague'} invites you to the team "
                        f"“{invitation.team.name}”: {attempt.version.title}"
                    ),
                    url=reverse("web:dashboard"),
                    key=f"team-invite:{member.pk}:{member.created.timestamp():.0f}",
                )
                members.append(member)
            invitation.accepted_at = timezone.now()
            invitation.save(update_fields=["accepted_at"])
            record_audit(
                user,
                "team.invitation_claimed",
                invitation,
                data={"team": invitation.team_id, "member": member.pk},
            )
    return members


def _token_from(request: Any) -> str | None:
    """The invitation token of the sign-up or sign-in page's `next` address, if any."""
    if request is None:
        return None
    for source in (getattr(request, "POST", {}), getattr(request, "GET", {})):
        if TOKEN_PARAM in source:
            return str(source[TOKEN_PARAM])[:64]
        values = parse_qs(urlsplit(str(source.get("next", ""))).query).get(TOKEN_PARAM)
        if values:
            return values[0][:64]
    return None


# ---------------------------------------------------------------------------- email
@task()
def send_invitation_email(invitation_id: int) -> bool:
    """Email the sign-up link of an invitation still waiting; False if there is none now."""
    invitation = (
        TeamInvitation.objects.filter(pk=invitation_id, accepted_at__isnull=True, revoked=False)
        .select_related("team__attempt__version", "team__school", "invited_by")
        .first()
    )
    if invitation is None:
        return False
    context = {
        "invitation": invitation,
        "inviter": invitation.invited_by or "A colleague",
        "team": invitation.team,
        "school": invitation.team.school,
        "version": invitation.team.attempt.version,
        "signup_url": signup_url(invitation),
        "login_url": login_url(invitation),
    }
    subject = render_to_string("earning/email/team_invitation_subject.txt", context).strip()
    body = render_to_string("earning/email/team_invitation_message.txt", context)
    send_mail(subject, body, None, [invitation.email])
    return True


# ---------------------------------------------------------------------------- allauth signals
# Connected when earning's AppConfig.ready() imports this module.
@receiver(user_signed_up, dispatch_uid="earning.teams.on_signed_up")
def on_signed_up(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    claim_invitations(user, token=_token_from(request))


@receiver(user_logged_in, dispatch_uid="earning.teams.on_logged_in")
def on_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    claim_invitations(user, token=_token_from(request))


@receiver(email_confirmed, dispatch_uid="earning.teams.on_email_confirmed")
def on_email_confirmed(
    sender: Any, request: Any = None, email_address: Any = None, **kwargs: Any
) -> None:
    if email_address is not None:
        claim_invitations(email_address.user)
