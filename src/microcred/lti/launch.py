"""The two legs of an LTI 1.3 launch: OpenID Connect login initiation, and the checks on the
id_token the platform then posts to /lti/launch/.

Each failed check raises LaunchRefused with a sentence a teacher can act on; the checks run
in the order that names the real problem (who sent it, then whether it is genuine, then
whether it is fresh, then what it asks for). Nothing is written before every check passed,
except that the login's nonce is used up in the launch's own transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import claims
from .models import LtiDeployment, LtiLogin, LtiPlatform
from .platform_http import PlatformError, key_set

LOGIN_LIFETIME = timedelta(minutes=10)
# Clocks of platforms and microcred differ a little; a minute is what Canvas tolerates too.
LEEWAY_SECONDS = 60
STATE_COOKIE = "mc_lti_state"
ASK_ADMIN = "Ask the person who runs microcred for your district to check the LTI registration."
LAUNCH_AGAIN = "Go back to your course and open the link again."


class LaunchRefused(Exception):
    """A login or launch microcred does not accept; `message` says why in plain words."""

    def __init__(self, message: str, *, status: int = 400, platform: LtiPlatform | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.platform = platform


# ---------------------------------------------------------------------------- login initiation
def find_platform(issuer: str, client_id: str | None) -> LtiPlatform:
    if not issuer:
        raise LaunchRefused("The platform did not say who it is (the “iss” parameter is missing).")
    found = LtiPlatform.objects.filter(issuer=issuer, active=True)
    if client_id:
        found = found.filter(client_id=client_id)
    platforms = list(found.select_related("organization")[:2])
    if not platforms:
        client = f" with client ID “{client_id}”" if client_id else ""
        raise LaunchRefused(
            f"microcred does not know the learning platform “{issuer}”{client}, so it cannot "
            f"accept this launch. {ASK_ADMIN}"
        )
    if len(platforms) > 1:
        raise LaunchRefused(
            f"microcred has several registrations for “{issuer}” and the platform did not say "
            f"which one it uses (no client ID). {ASK_ADMIN}"
        )
    return platforms[0]


@dataclass(frozen=True)
class LoginRedirect:
    url: str
    state: str


def start_login(params: dict[str, str], redirect_uri: str) -> LoginRedirect:
    """Remember a fresh state and nonce, and send the browser to the platform's authentication
    endpoint, which answers by posting the id_token to `redirect_uri`."""
    platform = find_platform(params.get("iss", ""), params.get("client_id"))
    if not params.get("login_hint"):
        raise LaunchRefused(
            "The platform's sign-in request is incomplete (no “login_hint”). " + LAUNCH_AGAIN,
            platform=platform,
        )
    login = LtiLogin.objects.create(
        platform=platform,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        target_link_uri=params.get("target_link_uri", "")[:1000],
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": params["login_hint"],
        "state": login.state,
        "nonce": login.nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginRedirect(platform.auth_login_url + separator + urlencode(query), login.state)


# ---------------------------------------------------------------------------- the launch
@dataclass(frozen=True)
class Launch:
    """A launch that passed every check."""

    platform: LtiPlatform
    deployment: LtiDeployment
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return str(self.claims.get(claims.MESSAGE_TYPE, ""))

    @property
    def roles(self) -> set[str]:
        return claims.short_roles(self.claims.get(claims.ROLES))


def _unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(id_token)
        body = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise LaunchRefused(
            "What the platform sent is not a readable LTI launch token. " + LAUNCH_AGAIN
        ) from exc
    return header, body


def _platform_of(body: dict[str, Any]) -> LtiPlatform:
    audience = body.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    # With several audiences, the authorized party names us (OpenID Connect Core 3.1.3.7).
    client_id = body.get("azp") if len(audiences) > 1 else audiences[0]
    if not isinstance(client_id, str) or not client_id:
        raise LaunchRefused("The launch token does not name microcred's client ID. " + ASK_ADMIN)
    return find_platform(str(body.get("iss") or ""), client_id)


def _public_key(platform: LtiPlatform, kid: str | None) -> Any:
    try:
        for fresh in (False, True):
            for jwk in key_set(platform.key_set_url, fresh=fresh)["keys"]:
                if kid is None or jwk.get("kid") == kid:
                    return jwt.PyJWK(jwk, algorithm="RS256").key
    except PlatformError as exc:
        raise LaunchRefused(f"{exc} {ASK_ADMIN}", status=502, platform=platform) from exc
    except jwt.PyJWTError as exc:
        raise LaunchRefused(
            f"A public key of {platform.name} cannot be read. {ASK_ADMIN}", platform=platform
        ) from exc
    raise LaunchRefused(
        f"The launch was signed with a key {platform.name} does not publish, so microcred "
        f"cannot tell it really comes from {platform.name}. {ASK_ADMIN}",
        platform=platform,
    )


def _verified(id_token: str, platform: LtiPlatform, kid: str | None) -> dict[str, Any]:
    key = _public_key(platform, kid)
    try:
        return jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise LaunchRefused(
            f"The launch's signature does not match {platform.name}'s public keys, so "
            f"microcred cannot trust it. {ASK_ADMIN}",
            platform=platform,
        ) from exc
    except jwt.ExpiredSignatureError as exc:
        raise LaunchRefused(
            f"The launch expired before it reached microcred. {LAUNCH_AGAIN}", platform=platform
        ) from exc
    except jwt.ImmatureSignatureError as exc:
        raise LaunchRefused(
            "The launch is dated in the future; the platform's clock may be wrong. " + ASK_ADMIN,
            platform=platform,
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise LaunchRefused(
            f"The launch token lacks the “{exc.claim}” claim that LTI 1.3 requires. {ASK_ADMIN}",
            platform=platform,
        ) from exc
    except jwt.PyJWTError as exc:
        raise LaunchRefused(
            f"The launch token is not valid ({exc}). {ASK_ADMIN}", platform=platform
        ) from exc


def _use_login(platform: LtiPlatform, state: str, cookie: str | None, nonce: str) -> None:
    """The state must be one we issued to this platform, for this browser, recently; its nonce
    must be the token's; and it is used up now, so the same launch never works twice."""
    login = LtiLogin.objects.filter(state=state, platform=platform).first()
    if login is None or timezone.now() - login.created > LOGIN_LIFETIME:
        raise LaunchRefused(
            "This launch did not come from a sign-in microcred started in the last ten "
            f"minutes. {LAUNCH_AGAIN}",
            platform=platform,
        )
    if cookie != state:
        raise LaunchRefused(
            "This launch reached microcred in another browser than the one that started it "
            f"(or the browser blocked microcred's cookie). {LAUNCH_AGAIN}",
            platform=platform,
        )
    if not secrets.compare_digest(login.nonce, nonce):
        raise LaunchRefused(
            f"The launch does not answer the sign-in microcred started. {LAUNCH_AGAIN}",
            platform=platform,
        )
    used = LtiLogin.objects.filter(pk=login.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not used:
        raise LaunchRefused(
            "This launch was already used once. Each launch works only once, so that nobody "
            f"can replay it. {LAUNCH_AGAIN}",
            platform=platform,
        )


def _deployment(platform: LtiPlatform, body: dict[str, Any]) -> LtiDeployment:
    deployment_id = body.get(claims.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise LaunchRefused(
            f"The launch does not say which deployment of {platform.name} it comes from. "
            + ASK_ADMIN,
            platform=platform,
        )
    deployment = LtiDeployment.objects.filter(
        platform=platform, deployment_id=deployment_id
    ).first()
    if deployment is None:
        raise LaunchRefused(
            f"The deployment “{deployment_id}” of {platform.name} is not registered in "
            f"microcred. {ASK_ADMIN}",
            status=403,
            platform=platform,
        )
    return deployment


def _check_message(platform: LtiPlatform, body: dict[str, Any]) -> None:
    if body.get(claims.VERSION) != "1.3.0":
        raise LaunchRefused(
            "microcred accepts LTI version 1.3.0 launches only. " + ASK_ADMIN, platform=platform
        )
    kind = body.get(claims.MESSAGE_TYPE)
    if kind == claims.RESOURCE_LINK_REQUEST:
        link = body.get(claims.RESOURCE_LINK)
        if not isinstance(link, dict) or not link.get("id"):
            raise LaunchRefused(
                "The launch does not say which course link it comes from. " + LAUNCH_AGAIN,
                platform=platform,
            )
        if not body.get("sub"):
            raise LaunchRefused(
                "The launch does not say who you are in your course (anonymous launches are "
                "not supported). " + ASK_ADMIN,
                platform=platform,
            )
    elif kind == claims.DEEP_LINKING_REQUEST:
        dl = body.get(claims.DL_SETTINGS)
        if not isinstance(dl, dict) or not dl.get("deep_link_return_url"):
            raise LaunchRefused(
                "The deep-linking request does not say where to send the choice back. " + ASK_ADMIN,
                platform=platform,
            )
    else:
        raise LaunchRefused(
            f"microcred does not handle LTI messages of type “{kind}”. " + ASK_ADMIN,
            platform=platform,
        )


@transaction.atomic
def validate(id_token: str, state: str, cookie: str | None) -> Launch:
    """Every check of LTI 1.3 Core §5.1.3 and the OIDC flow, or LaunchRefused."""
    if not id_token or not state:
        raise LaunchRefused(
            "This page opens only from a launch in your course (no launch token was sent). "
            + LAUNCH_AGAIN
        )
    header, unverified = _unverified(id_token)
    platform = _platform_of(unverified)
    body = _verified(id_token, platform, header.get("kid"))
    _use_login(platform, state, cookie, str(body["nonce"]))
    deployment = _deployment(platform, body)
    _check_message(platform, body)
    return Launch(platform, deployment, body)


def expired_logins() -> Q:
    """Logins old enough to forget (a cleanup may delete them)."""
    return Q(created__lt=timezone.now() - LOGIN_LIFETIME * 6)
