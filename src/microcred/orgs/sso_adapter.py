"""allauth's side of single sign-on: the SocialAccountAdapter and a stricter OpenID Connect.

- `SsoAdapter.pre_social_login` runs after the IdP has vouched for the person and before
  anything is saved: it checks the OIDC nonce, plans the organizations and roles
  (orgs.sso.plan_sign_in) and refuses with a plain page, creating nothing, when the plan fails;
  for a known account it applies the plan, for a new one `save_user` does, in the same
  transaction as the account.
- Existing accounts are matched by email only within the IdP's own email domains, and never
  a staff or superuser account.
- OpenID Connect: allauth sends no nonce and, when the ID token comes straight from the token
  endpoint, does not check its signature (allowed over TLS by OIDC Core 3.1.3.7). microcred
  asks for both: `SsoOIDCProvider` adds a nonce to the request and the state, and
  `SsoOIDCAdapter` verifies the ID token against the IdP's JWKS, on microcred's callback URL.
  (Written against django-allauth 65.21.)
"""

from __future__ import annotations

import hmac
from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import get_random_string

from . import sso
from .models import IdentityProvider, User

NONCE_STATE_KEY = "nonce"


def refusal_page(
    request: HttpRequest,
    idp: IdentityProvider | None,
    message: str,
    *,
    details: str = "",
    status: int = 403,
) -> HttpResponse:
    context = {"idp": idp, "message": message, "details": details}
    return render(request, "orgs/sso/refused.html", context, status=status)


def _refuse(request: HttpRequest, idp: IdentityProvider, refusal: sso.SsoRefused) -> None:
    raise ImmediateHttpResponse(refusal_page(request, idp, refusal.message))


class SsoOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """OpenID Connect that always checks the ID token's signature, and comes back to
    microcred's own callback URL (where this adapter is used)."""

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        url = reverse("orgs:sso_oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, url, self.redirect_uri_protocol)

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


class SsoOIDCProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider with a nonce in every authorization request."""

    def get_oauth2_adapter(self, request: HttpRequest) -> SsoOIDCAdapter:
        return SsoOIDCAdapter(request, self.app.provider_id)

    def get_callback_url(self) -> str:
        return reverse("orgs:sso_oidc_callback", kwargs={"provider_id": self.app.provider_id})

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        nonce = get_random_string(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        # allauth keeps the extra keyword in the stashed state, which comes back with the login.
        kwargs[NONCE_STATE_KEY] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kwargs)


class SsoAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider: str, client_id: Any = None) -> Any:
        found = super().get_provider(request, provider, client_id)
        if type(found) is OpenIDConnectProvider:
            return SsoOIDCProvider(request, app=found.app)
        return found

    # ------------------------------------------------------------------ the sign-in
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        idp = sso.for_identity_provider(sociallogin.account.provider)
        if idp is None:
            return  # not one of microcred's IdPs: allauth's defaults apply
        if idp.kind == IdentityProvider.Kind.OIDC:
            self._check_nonce(request, idp, sociallogin)
        attributes = sso.attributes_from(idp.kind, sociallogin.account.extra_data)
        try:
            plan = sso.plan_sign_in(idp, attributes)
        except sso.SsoRefused as refusal:
            _refuse(request, idp, refusal)
        email = (sociallogin.user.email if sociallogin.user else "") or ""
        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            if not email:
                _refuse(
                    request,
                    idp,
                    sso.SsoRefused(
                        f"{idp.name} did not send your email address, which microcred needs "
                        "for your account. Nothing was created.",
                        code="no_email",
                    ),
                )
            if User.objects.filter(email__iexact=email).exists():
                _refuse(request, idp, sso.refusal_for_existing_email(idp, email))
            # A new account: save_user applies the plan with it.
            sociallogin.state["microcred_sso_plan"] = {
                "idp": idp.pk,
                "grants": [list(g) for g in plan.grants],
                "skipped": list(plan.skipped),
            }
            return
        if user.is_active:
            sso.apply_sign_in(idp, user, plan)

    def _check_nonce(self, request: HttpRequest, idp: IdentityProvider, login: SocialLogin) -> None:
        expected = str(login.state.get(NONCE_STATE_KEY) or "")
        claims = (login.account.extra_data or {}).get("id_token") or {}
        got = str(claims.get("nonce") or "")
        if not expected or not got or not hmac.compare_digest(expected, got):
            raise ImmediateHttpResponse(
                refusal_page(
                    request,
                    idp,
                    f"The answer from {idp.name} did not match the sign-in microcred started "
                    "(it may come from another tab or an old link). Nothing was changed. "
                    "Start again from the sign-in page.",
                    details="The ID token's nonce is missing or wrong.",
                )
            )

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            stashed = sociallogin.state.get("microcred_sso_plan")
            idp = sso.for_identity_provider(sociallogin.account.provider)
            if stashed and idp is not None:
                plan = sso.SignInPlan(
                    tuple((int(o), str(r)) for o, r in stashed["grants"]),
                    tuple(stashed.get("skipped", [])),
                )
                sso.apply_sign_in(idp, user, plan)
        return user

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").lower()
        return user

    # ------------------------------------------------------------------ matching accounts
    def can_authenticate_by_email(self, login: SocialLogin, email: str) -> bool:
        """Only an IdP's own domains, and never into a staff or superuser account."""
        idp = sso.for_identity_provider(login.account.provider)
        if idp is None or not idp.active or not sso.email_domain_trusted(idp, email):
            return False
        privileged = User.objects.filter(email__iexact=email).filter(is_staff=True)
        privileged |= User.objects.filter(email__iexact=email, is_superuser=True)
        return not privileged.exists()

    # ------------------------------------------------------------------ failures
    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A failed exchange with one of microcred's IdPs (a bad signature, an expired or
        misdirected assertion, a state that does not match) gets a page that says what to do."""
        app = getattr(provider, "app", None)
        idp = sso.for_identity_provider(app.provider_id) if app and app.provider_id else None
        if idp is None:
            return
        context = extra_context or {}
        reason = context.get("saml_last_error_reason") or (str(exception) if exception else "")
        raise ImmediateHttpResponse(
            refusal_page(
                request,
                idp,
                f"microcred could not confirm your sign-in with {idp.name}, so you are not "
                "signed in and nothing was changed. Start again from the sign-in page; if it "
                f"keeps failing, tell {idp.organization.name}'s program office.",
                details=str(reason)[:300],
                status=401,
            )
        )


def on_sso_login(request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: a sign-in through an IdP set up as the second factor counts as
    one for orgs/mfa.py (the IdP enforces it upstream)."""
    login = kwargs.get("sociallogin")
    if request is None or login is None:
        return
    idp = sso.for_identity_provider(login.account.provider)
    if idp is not None and idp.active and idp.counts_as_second_factor:
        record_authentication(request, user, "mfa", type="sso", identity_provider=idp.pk)
