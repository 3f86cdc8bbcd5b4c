"""Background work of the orgs app: invitation emails to people added by an admin."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from .models import User


def set_password_url(user: User) -> str:
    """A one-time link to allauth's 'set a new password' page. The token is tied to the
    current (unusable) password hash, so it stops working once a password is set."""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key}
    )
    return f"{settings.SITE_URL}{path}"


@task()
def send_invitations(user_ids: list[int], inviter: str) -> int:
    """Email each new account holder a link to choose a password; returns how many were sent.
    Accounts that have meanwhile set a password are skipped (the task may run twice)."""
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        if user.has_usable_password():
            continue
        context = {
            "user": user,
            "inviter": inviter,
            "url": set_password_url(user),
            "login_url": f"{settings.SITE_URL}{reverse('account_login')}",
            "reset_url": f"{settings.SITE_URL}{reverse('account_reset_password')}",
        }
        subject = render_to_string("orgs/email/invitation_subject.txt", context).strip()
        body = render_to_string("orgs/email/invitation_message.txt", context)
        send_mail(subject, body, None, [user.email])
        sent += 1
    return sent
