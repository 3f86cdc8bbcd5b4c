"""Writes of the LTI app: platform registrations, linking LMS users to accounts, launches,
the frame-to-tab handoff, deep-linking answers and grade passbacks.

Each write checks who may make it, runs in one transaction and leaves an AuditEvent in it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import MicroCredential
from microcred.earning.selectors import attempts_of
from microcred.orgs.models import Organization, Role, User
from microcred.orgs.services import SYSTEM, add_membership, record_audit

from . import claims, keys
from .launch import Launch, LaunchRefused
from .models import (
    GradePassback,
    LtiDeepLinking,
    LtiDeployment,
    LtiHandoff,
    LtiLogin,
    LtiPlatform,
    LtiResourceLaunch,
    LtiUserLink,
)

# Platforms belong to the organizations that run a program: the state, or a district.
PLATFORM_OWNER_KINDS = frozenset({Organization.Kind.STATE_AGENCY, Organization.Kind.LEA})
HANDOFF_LIFETIME = timedelta(minutes=5)
DEEP_LINKING_LIFETIME = timedelta(hours=1)


# What a registration by hand sets on a platform (deployments aside).
PLATFORM_FIELDS = (
    "name",
    "issuer",
    "client_id",
    "auth_login_url",
    "auth_token_url",
    "key_set_url",
    "auth_audience",
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------------- registrations
@dataclass
class PlatformFields:
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str = ""
    deployment_ids: list[str] = field(default_factory=list)


def check_owner(actor: Any, organization: Organization) -> None:
    if not actor.has_perm("lti.manage_platforms", organization):
        raise PermissionDenied(
            f"Only the program staff of {organization.name} can connect learning platforms to it."
        )
    if organization.kind not in PLATFORM_OWNER_KINDS:
        raise ValidationError(
            {"organization": ["A learning platform belongs to the state agency or a district."]}
        )


def _check_fields(data: PlatformFields, platform: LtiPlatform | None, dynamic: bool) -> None:
    errors: dict[str, list[str]] = {}
    url = URLValidator(schemes=["https", "http"])
    for name in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
        value = getattr(data, name).strip()
        try:
            url(value)
        except ValidationError:
            errors[name] = ["Enter a full web address starting with https://."]
    if not data.name.strip():
        errors["name"] = ["Give the platform a name people will recognise, like “Pine Canvas”."]
    if not data.client_id.strip():
        errors["client_id"] = ["Enter the client ID the platform gave microcred."]
    # Dynamic registration may come before the platform makes its deployment.
    if not dynamic and not [d for d in data.deployment_ids if d.strip()]:
        errors["deployment_ids"] = ["Enter at least one deployment ID, one per line."]
    clash = LtiPlatform.objects.filter(issuer=data.issuer.strip(), client_id=data.client_id.strip())
    if platform is not None:
        clash = clash.exclude(pk=platform.pk)
    if "issuer" not in errors and "client_id" not in errors and clash.exists():
        errors["client_id"] = ["This issuer and client ID are already registered in microcred."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_platform(
    actor: Any,
    organization: Organization,
    data: PlatformFields,
    *,
    platform: LtiPlatform | None = None,
    dynamic: bool = False,
) -> LtiPlatform:
    """Register a platform by hand (or change one); its deployments become exactly those
    listed."""
    if platform is not None:
        organization = platform.organization
    check_owner(actor, organization)
    _check_fields(data, platform, dynamic)
    creating = platform is None
    if platform is None:
        creator = actor if getattr(actor, "is_authenticated", False) else None
        platform = LtiPlatform(organization=organization, created_by=creator)
    for name in PLATFORM_FIELDS:
        setattr(platform, name, getattr(data, name).strip())
    platform.registered_dynamically = platform.registered_dynamically or dynamic
    platform.save()
    wanted = {d.strip() for d in data.deployment_ids if d.strip()}
    platform.deployments.exclude(deployment_id__in=wanted).delete()
    for deployment_id in sorted(wanted):
        LtiDeployment.objects.get_or_create(platform=platform, deployment_id=deployment_id)
    record_audit(
        actor,
        "lti.platform_registered" if creating else "lti.platform_changed",
        platform,
        organization=organization,
        data={
            "issuer": platform.issuer,
            "client_id": platform.client_id,
            "deployments": sorted(wanted),
            "dynamic": dynamic,
        },
    )
    return platform


# ---------------------------------------------------------------------------- accounts
def _email_of(body: dict[str, Any]) -> str:
    email = body.get("email")
    # A platform that says the address is unverified does not get it matched to an account.
    if not isinstance(email, str) or "@" not in email or body.get("email_verified") is False:
        return ""
    return email.strip().lower()


def _new_account(launch: Launch, email: str) -> User:
    body = launch.claims
    if not email:
        # No address from the LMS: an address that can never receive mail (RFC 2606 .invalid)
        # keeps the account unique; the person can add a real one in their profile.
        digest = hashlib.sha256(f"{launch.platform.pk}:{body['sub']}".encode()).hexdigest()[:16]
        email = f"lti-{digest}@lms.invalid"
    user = User.objects.create_user(
        email=email,
        first_name=str(body.get("given_name") or "")[:150],
        last_name=str(body.get("family_name") or "")[:150],
        display_name=str(body.get("name") or "")[:150],
    )
    organization = launch.platform.organization
    if claims.LEARNER in launch.roles and organization.kind == Organization.Kind.LEA:
        add_membership(SYSTEM, organization, email=user.email, role=Role.EARNER)
    return user


def link_account(launch: Launch) -> tuple[User, str]:
    """The microcred user behind the LMS user: linked before, else the account with the
    same email, else a new account. Returns (user, "linked" | "matched" | "created")."""
    platform, sub = launch.platform, str(launch.claims["sub"])
    link = LtiUserLink.objects.filter(platform=platform, sub=sub).select_related("user").first()
    if link is not None:
        user, how = link.user, "linked"
    else:
        email = _email_of(launch.claims)
        found = User.objects.filter(email__iexact=email).first() if email else None
        user, how = (found, "matched") if found else (_new_account(launch, email), "created")
        try:
            with transaction.atomic():
                LtiUserLink.objects.create(platform=platform, sub=sub, user=user)
        except IntegrityError as exc:  # the same first launch twice at once
            raise LaunchRefused("Your first launch is still being set up. Try again.") from exc
        record_audit(
            SYSTEM,
            f"lti.account_{how}",
            user,
            organization=platform.organization,
            data={"platform": platform.pk, "sub": sub},
        )
    if not user.is_active:
        raise LaunchRefused(
            "Your microcred account is switched off. Ask your district's program office.",
            status=403,
            platform=platform,
        )
    return user, how


# ---------------------------------------------------------------------------- resource links
def micro_credential_named(body: dict[str, Any]) -> MicroCredential | None:
    """The MC a launch names: the custom parameter `mc`, else `?mc=` on the target link."""
    custom = body.get(claims.CUSTOM)
    slug = custom.get("mc") if isinstance(custom, dict) else None
    if not slug:
        query = parse_qs(urlparse(str(body.get(claims.TARGET_LINK_URI) or "")).query)
        slug = (query.get("mc") or [None])[0]
    if not slug:
        return None
    return MicroCredential.objects.filter(slug=str(slug)).first()


def record_resource_launch(launch: Launch, user: User) -> LtiResourceLaunch:
    body = launch.claims
    link = body[claims.RESOURCE_LINK]
    context = body.get(claims.CONTEXT) if isinstance(body.get(claims.CONTEXT), dict) else {}
    ags = body.get(claims.AGS_ENDPOINT) if isinstance(body.get(claims.AGS_ENDPOINT), dict) else {}
    nrps = body.get(claims.NRPS) if isinstance(body.get(claims.NRPS), dict) else {}
    scopes = [s for s in ags.get("scope", []) if isinstance(s, str)]
    record, _ = LtiResourceLaunch.objects.update_or_create(
        platform=launch.platform,
        user=user,
        resource_link_id=str(link["id"])[:255],
        defaults={
            "deployment": launch.deployment,
            "micro_credential": micro_credential_named(body),
            "context_id": str(context.get("id") or "")[:255],
            "context_title": str(context.get("title") or context.get("label") or "")[:255],
            # Only a line item we may post scores to is kept.
            "lineitem_url": str(ags.get("lineitem") or "")[:1000]
            if claims.SCOPE_SCORE in scopes
            else "",
            "ags_scopes": scopes,
            "nrps_url": str(nrps.get("context_memberships_url") or "")[:1000],
        },
    )
    return record


def destination_for(user: User, micro_credential: MicroCredential | None) -> str:
    """Where the launch lands: the earner's attempt on the MC, else the MC's page, else the
    catalog."""
    if micro_credential is None:
        return reverse("catalog:search")
    attempt = (
        attempts_of(user)
        .filter(version__micro_credential=micro_credential)
        .exclude(status__in=["withdrawn", "preapproval_declined"])
        .first()
    )
    if attempt is not None:
        return reverse("earning:attempt", args=[attempt.uuid])
    return reverse("catalog:detail", args=[micro_credential.slug])


# ---------------------------------------------------------------------------- frame -> tab
def create_handoff(user: User, destination: str) -> str:
    token = secrets.token_urlsafe(32)
    LtiHandoff.objects.create(
        token_hash=_hash(token),
        user=user,
        destination=destination,
        expires=timezone.now() + HANDOFF_LIFETIME,
    )
    return token


def use_handoff(token: str) -> LtiHandoff:
    """The handoff behind a token, used up now; LaunchRefused when unknown, used or late."""
    handoff = LtiHandoff.objects.filter(token_hash=_hash(token)).select_related("user").first()
    fresh = handoff is not None and handoff.expires > timezone.now()
    if not fresh or not LtiHandoff.objects.filter(pk=handoff.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise LaunchRefused(
            "This link to open microcred works once, within five minutes of the launch. Go "
            "back to your course and open the link again.",
            status=410,
        )
    assert handoff is not None
    return handoff


# ---------------------------------------------------------------------------- deep linking
def may_deep_link(launch: Launch) -> bool:
    return bool(launch.roles & claims.DESIGNER_ROLES)


def start_deep_linking(launch: Launch) -> str:
    if not may_deep_link(launch):
        raise LaunchRefused(
            "Only a course's instructors and designers can add micro-credentials to it.",
            status=403,
            platform=launch.platform,
        )
    settings_claim = launch.claims[claims.DL_SETTINGS]
    token = secrets.token_urlsafe(32)
    LtiDeepLinking.objects.create(
        platform=launch.platform,
        deployment_id=launch.deployment.deployment_id,
        token_hash=_hash(token),
        return_url=str(settings_claim["deep_link_return_url"])[:1000],
        accept_multiple=settings_claim.get("accept_multiple", True) is not False,
        data=str(settings_claim.get("data") or "")[:2000],
        expires=timezone.now() + DEEP_LINKING_LIFETIME,
    )
    return token


def open_deep_linking(token: str) -> LtiDeepLinking:
    request = (
        LtiDeepLinking.objects.filter(token_hash=_hash(token)).select_related("platform").first()
    )
    if request is None or request.expires <= timezone.now() or request.answered_at is not None:
        raise LaunchRefused(
            "This choice of micro-credentials has expired or was already sent. Start again "
            "from your course's “add content” menu.",
            status=410,
        )
    return request


@dataclass(frozen=True)
class DeepLinkAnswer:
    return_url: str
    jwt: str
    platform: LtiPlatform


def content_item(mc: MicroCredential, title: str, launch_url: str) -> dict[str, Any]:
    return {
        "type": "ltiResourceLink",
        "title": title,
        "url": f"{launch_url}?mc={mc.slug}",
        "custom": {"mc": mc.slug},
        # A line item per placement: the score for earning the MC goes there.
        "lineItem": {"scoreMaximum": 1, "label": title, "resourceId": mc.slug},
    }


@transaction.atomic
def answer_deep_linking(
    token: str, chosen: list[tuple[MicroCredential, str]], launch_url: str
) -> DeepLinkAnswer:
    """Sign the LtiDeepLinkingResponse with the chosen MCs; the request is used up."""
    request = open_deep_linking(token)
    if not chosen:
        raise ValidationError({"mc": ["Choose at least one micro-credential to add."]})
    if len(chosen) > 1 and not request.accept_multiple:
        raise ValidationError(
            {"mc": ["This course link can hold one micro-credential: choose one."]}
        )
    platform = request.platform
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": [platform.issuer],
        "azp": platform.client_id,
        "iat": now,
        "exp": now + 600,
        "nonce": uuid.uuid4().hex,
        claims.DEPLOYMENT_ID: request.deployment_id,
        claims.MESSAGE_TYPE: claims.DEEP_LINKING_RESPONSE,
        claims.VERSION: "1.3.0",
        claims.DL_CONTENT_ITEMS: [content_item(mc, title, launch_url) for mc, title in chosen],
    }
    if request.data:
        body[claims.DL_DATA] = request.data
    request.answered_at = timezone.now()
    request.save(update_fields=["answered_at"])
    record_audit(
        SYSTEM,
        "lti.deep_link_answered",
        platform,
        organization=platform.organization,
        data={"micro_credentials": [mc.slug for mc, _ in chosen]},
    )
    return DeepLinkAnswer(request.return_url, keys.sign(body), platform)


# ---------------------------------------------------------------------------- grade passback
def queue_passbacks(credential: Any) -> list[GradePassback]:
    """A passback for each line item the earner launched this credential's MC from; only new
    ones are sent (a second signal for one credential adds and sends nothing)."""
    if not credential.award_id:
        return []  # a stack credential has no single MC, hence no course link
    award = credential.award
    mc_id = award.attempt.version.micro_credential_id
    launches = LtiResourceLaunch.objects.filter(
        user_id=award.earner_id, micro_credential_id=mc_id, platform__active=True
    ).exclude(lineitem_url="")
    made = []
    for launch in launches:
        passback, created = GradePassback.objects.get_or_create(
            launch=launch, credential=credential
        )
        if created:
            made.append(passback)
    return made


def may_manage_platform(user: Any, platform: LtiPlatform) -> bool:
    return bool(user.has_perm("lti.manage_platforms", platform.organization))


def forget_expired() -> dict[str, int]:
    """Delete what launches leave behind once it can no longer be used: sign-in states (a
    launch naming a forgotten one is refused, as any unknown state), and one-time "open in a
    new tab" links and deep-linking requests a day after they expired. Run it daily."""
    from .launch import expired_logins

    cutoff = timezone.now() - timedelta(days=1)
    return {
        "sign-in states": LtiLogin.objects.filter(expired_logins()).delete()[0],
        "new-tab links": LtiHandoff.objects.filter(expires__lt=cutoff).delete()[0],
        "deep-linking requests": LtiDeepLinking.objects.filter(expires__lt=cutoff).delete()[0],
    }
