"""Multi-factor sign-in: who must use it, and the rule that holds them to it.

allauth's MFA does the work (TOTP, WebAuthn security keys, recovery codes; the second step of
every sign-in of a user who has an authenticator). What this module adds:

- `requires_mfa`: admins (staff, superusers, state and district program admins), issuer
  admins, recognizer admins, scoring leads and assessors may not work without a second factor;
- `MfaRequiredMiddleware`: such a user whose session was not confirmed by a second factor is
  sent to set one up (or to confirm the one they have) and can do nothing else meanwhile,
  except sign out;
- a fresh sign-in counts as a recent authentication, so the setup and a token made right after
  signing in do not ask for the password a second time;
- `MfaAdapter`: the last authenticator of such a user cannot be switched off;
- an AuditEvent for every authenticator added, removed or reset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.internal.flows.login import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
    record_authentication,
)
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base import forms as allauth_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import forms as totp_forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from .models import Role
from .selectors import roles_of
from .services import record_audit
from .tokens import bearer_secret, user_for_secret

# Roles whose holders decide on other people's records, credentials, access or money
# (recognizer admins approve stipends and salary steps and export them to payroll).
MFA_ROLES: frozenset[str] = frozenset(
    {
        Role.PROGRAM_ADMIN,
        Role.ISSUER_ADMIN,
        Role.SCORING_LEAD,
        Role.ASSESSOR,
        Role.RECOGNIZER_ADMIN,
    }
)

SETUP_MESSAGE = (
    "Your role in microcred needs a second step at sign-in: a code from an authenticator app "
    "or a security key. Set one up below to continue; until then only this page and signing "
    "out are open to you."
)
CONFIRM_MESSAGE = "Confirm it is you with your authenticator app or security key to continue."
API_MESSAGE = (
    "Your role needs two-factor sign-in: set it up at {url} before using the API with this session."
)


def required_by_settings() -> bool:
    return bool(getattr(settings, "MICROCRED_MFA_REQUIRED", True))


def requires_mfa(user: Any) -> bool:
    """The person must use a second factor: they hold such a role and the rule is on."""
    return required_by_settings() and holds_mfa_role(user)


def holds_mfa_role(user: Any) -> bool:
    """The person holds a role (or admin flag) for which a second factor is mandatory."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    # roles_of caches on the user for the request: the middleware's check costs no query of its
    # own when the page's permission rules read the same roles.
    return not MFA_ROLES.isdisjoint(roles_of(user))


def has_authenticator(user: Any) -> bool:
    """An authenticator that proves a second factor (recovery codes alone do not count)."""
    return (
        Authenticator.objects.filter(user_id=user.pk)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .exists()
    )


def session_passed_mfa(request: HttpRequest) -> bool:
    """This session's sign-in (or a later confirmation) included a second factor. allauth
    records each step of an authentication in the session, tied to the user."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def _open_while_pending(path: str) -> bool:
    """Pages a user who must still set up a second factor may reach: the MFA pages themselves,
    confirming their password (allauth asks before adding an authenticator), signing out,
    and static files."""
    prefixes = (
        reverse("mfa_index"),
        reverse("account_logout"),
        reverse("account_reauthenticate"),
        settings.STATIC_URL,
    )
    return path.startswith(prefixes)


class MfaRequiredMiddleware:
    """Holds users whose role requires a second factor to setting one up (or confirming it)
    before anything else. Placed after allauth's AccountMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        held = self._hold(request)
        return held if held is not None else self.get_response(request)

    def _hold(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        # A script with a valid bearer token is authenticated by its token, not this session.
        # A bad token earns nothing: the session behind it is held like any other.
        secret = bearer_secret(request)
        if secret is not None and user_for_secret(secret) is not None:
            return None
        # Cheapest first: a session that passed a second factor costs no query.
        if session_passed_mfa(request) or _open_while_pending(request.path):
            return None
        if not requires_mfa(user):
            return None
        if request.path.startswith("/api/"):
            url = reverse("mfa_index")
            # The API's one error shape (api/errors.py), without loading the API for it.
            body = {"detail": API_MESSAGE.format(url=url), "code": "mfa_required", "errors": []}
            return JsonResponse(body, status=403)
        if has_authenticator(user):
            # Signed in without the second step (a session from before the rule, say):
            # allauth's confirmation page records it, then sends the person on.
            target = reverse("mfa_reauthenticate")
            messages.info(request, CONFIRM_MESSAGE, fail_silently=True)
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return HttpResponseRedirect(reverse("mfa_index"))


def on_login(request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """A sign-in that has just passed every step (password, and the second factor where the
    person has one) is as fresh as a re-authentication: recorded as one, so that what asks for
    a recent sign-in (adding an authenticator, making an API token) does not ask again within
    ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    record_authentication(request, user, method="login", reauthenticated=True)


def on_authenticator_added(request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Adding a TOTP app or a security key proves its possession (a valid code, a signed
    challenge): the session counts as confirmed by a second factor from then on."""
    authenticator = kwargs.get("authenticator")
    if request is None or authenticator is None:
        return
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)


def on_authenticator_removed(request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Someone who must use a second factor removed their last one (a security key: allauth
    refuses to switch off the last authenticator app through MfaAdapter, but not to remove a
    key): this session no longer counts as confirmed, so they are held at the setup page now
    rather than at their next sign-in."""
    if request is None or not requires_mfa(user) or has_authenticator(user):
        return
    records = get_authentication_records(request, user)
    request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        record for record in records if record.get("method") != "mfa"
    ]


def audit_authenticator_change(action: str) -> Callable[..., None]:
    """A receiver that records an authenticator added, removed or reset (recovery codes made
    anew) as an AuditEvent on the person, like API tokens: how someone signs in is an account
    decision an admin may have to trace. The target is the user because a removed
    authenticator has no primary key left."""

    def receiver(request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
        authenticator = kwargs.get("authenticator")
        kind = getattr(authenticator, "type", "")
        record_audit(user, action, user, data={"type": kind})

    return receiver


on_authenticator_added_audit = audit_authenticator_change("mfa.authenticator_added")
on_authenticator_removed_audit = audit_authenticator_change("mfa.authenticator_removed")
on_authenticator_reset_audit = audit_authenticator_change("mfa.authenticator_reset")


class MfaAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "Your role needs two-step sign-in: add a security key first if you want to turn "
            "off the authenticator app."
        ),
    }

    def build_totp_svg(self, url: str) -> str:
        """The QR code an authenticator app scans, drawn by segno, which the site already uses
        for credential QR codes (allauth would need the qrcode package)."""
        from microcred.credentials.sharing import qr_svg

        return str(qr_svg(url))

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Someone whose role requires a second factor keeps at least one."""
        user = authenticator.user
        if not requires_mfa(user):
            return True
        others = (
            Authenticator.objects.filter(user_id=user.pk)
            .exclude(type=Authenticator.Type.RECOVERY_CODES)
            .exclude(pk=authenticator.pk)
        )
        return others.exists()


def setup_pending(request: HttpRequest) -> bool:
    """The person must set up a second factor before doing anything else (the MFA pages
    explain why)."""
    user = request.user
    return bool(
        user.is_authenticated
        and not session_passed_mfa(request)
        and requires_mfa(user)
        and not has_authenticator(user)
    )


# ---------------------------------------------------------------------------- forms
# allauth's forms with labels that say what to type (its own say only "Code"), and without the
# placeholder that repeats the label.
def _relabel(form: Any, label: str) -> None:
    field = form.fields["code"]
    field.label = label
    field.widget.attrs.pop("placeholder", None)
    field.widget.attrs.update({"autocomplete": "one-time-code", "spellcheck": "false"})


class AuthenticateForm(allauth_forms.AuthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _relabel(self, "Code from your authenticator app, or a recovery code")


class ReauthenticateForm(allauth_forms.ReauthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _relabel(self, "Code from your authenticator app, or a recovery code")


class ActivateTOTPForm(totp_forms.ActivateTOTPForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _relabel(self, "6-digit code from the app")
        self.fields["code"].widget.attrs["inputmode"] = "numeric"
