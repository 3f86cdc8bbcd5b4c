"""Single sign-on through a state's or district's identity provider: reads and writes.

An `IdentityProvider` belongs to a state agency or a district and wraps one allauth `SocialApp`
(OpenID Connect or SAML 2.0), which holds the protocol settings in the shape allauth reads.
This module decides everything microcred adds on top:

- set-up: which IdPs an admin may see and change (`manageable_identity_providers`), and the
  one write that creates or changes one (`save_identity_provider`), audited;
- sign-in: from the attributes an IdP sent, which organizations and roles the person gets
  (`plan_sign_in`, which refuses with a plain message and changes nothing), and applying that
  plan to their memberships (`apply_sign_in`): roles granted locally are never removed, roles
  this IdP granted earlier and no longer asserts are.

allauth's side (the adapter, the OIDC nonce and signature checks) is in orgs/sso_adapter.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from allauth.socialaccount.models import SocialApp
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.text import slugify

from . import selectors
from .models import (
    SSO_GRANTABLE_ROLES,
    IdentityProvider,
    Membership,
    Organization,
    Role,
    SsoMembershipGrant,
    User,
    role_fit_problem,
)
from .services import record_audit

Kind = IdentityProvider.Kind
# The organizations an IdP may speak for, and those a code may name below it.
IDP_ORG_KINDS = (Organization.Kind.STATE_AGENCY, Organization.Kind.LEA)
MEMBER_ORG_KINDS = (Organization.Kind.LEA, Organization.Kind.SCHOOL)
ALLAUTH_PROVIDER = {Kind.OIDC: "openid_connect", Kind.SAML: "saml"}
# SAML attribute names tried after the ones an admin gives (allauth's defaults plus common
# LDAP-style names), so that a typical IdP works without naming them.
SAML_DEFAULTS = {
    "email": ["mail", "email", "urn:oid:0.9.2342.19200300.100.1.3"],
    "first_name": ["givenName", "first_name", "urn:oid:2.5.4.42"],
    "last_name": ["sn", "last_name", "urn:oid:2.5.4.4"],
}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


class SsoRefused(Exception):
    """A sign-in that must not go on; `message` says why in plain words, for the person."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------------------- reads
def manageable_identity_providers(user: Any) -> QuerySet[IdentityProvider]:
    """The IdPs of the organizations the user runs as a program admin (all for a superuser)."""
    orgs = selectors.manageable_organizations(user)
    return (
        IdentityProvider.objects.filter(organization__in=orgs)
        .select_related("organization", "social_app")
        .order_by("organization__name", "name")
    )


def idp_organizations(user: Any) -> QuerySet[Organization]:
    """The state agencies and districts for which the user may set up an IdP."""
    return selectors.manageable_organizations(user).filter(kind__in=IDP_ORG_KINDS, active=True)


def may_manage(user: Any, organization: Organization) -> bool:
    return organization.kind in IDP_ORG_KINDS and user.has_perm(
        "orgs.manage_organization", organization
    )


def login_url(idp: IdentityProvider) -> str:
    """Where the sign-in button posts: allauth's login view for the IdP's app."""
    app = idp.social_app
    if idp.kind == Kind.OIDC:
        return reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
    return reverse("saml_login", kwargs={"organization_slug": app.client_id})


@dataclass(frozen=True)
class SignInButton:
    label: str
    url: str


def sign_in_buttons() -> list[SignInButton]:
    """The buttons of the sign-in page: one per active IdP, by name."""
    idps = IdentityProvider.objects.filter(active=True).select_related("social_app")
    return [SignInButton(idp.button_label, login_url(idp)) for idp in idps.order_by("name")]


def service_provider_details(idp: IdentityProvider, build_uri: Any) -> list[tuple[str, str]]:
    """What the IdP's administrators need from microcred, as (label, value) pairs;
    `build_uri` is request.build_absolute_uri."""
    app = idp.social_app
    if idp.kind == Kind.OIDC:
        callback = reverse("orgs:sso_oidc_callback", kwargs={"provider_id": app.provider_id})
        return [("Redirect URI (callback)", build_uri(callback))]
    slug = {"organization_slug": app.client_id}
    return [
        ("Entity ID and metadata", build_uri(reverse("saml_metadata", kwargs=slug))),
        ("Assertion consumer service (HTTP-POST)", build_uri(reverse("saml_acs", kwargs=slug))),
    ]


def for_identity_provider(provider_id: str) -> IdentityProvider | None:
    """The IdP behind an allauth provider id (a social account's `provider`)."""
    return (
        IdentityProvider.objects.filter(social_app__provider_id=provider_id)
        .select_related("organization", "social_app")
        .first()
    )


def contacts_of(organization: Organization) -> list[str]:
    """Names of the organization's program office: whom a refused person should ask."""
    members = Membership.objects.filter(
        organization=organization, role=Role.PROGRAM_ADMIN, active=True, user__is_active=True
    ).select_related("user")
    return sorted(m.user.name for m in members)


# ---------------------------------------------------------------------------- set-up
@dataclass
class IdpSettings:
    """What the set-up form (or the API) sends. Secrets left empty keep the stored ones."""

    organization: Organization
    kind: str
    name: str
    organization_attribute: str
    role_attribute: str = ""
    role_map: dict[str, str] = field(default_factory=dict)
    default_role: str = ""
    email_domains: list[str] = field(default_factory=list)
    counts_as_second_factor: bool = False
    active: bool = True
    # OpenID Connect
    server_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    # SAML 2.0
    idp_entity_id: str = ""
    sso_url: str = ""
    x509_cert: str = ""
    email_attribute: str = ""
    first_name_attribute: str = ""
    last_name_attribute: str = ""


def parse_role_map(text: str) -> dict[str, str]:
    """'teacher = earner' lines into {"teacher": "earner"}; bad lines raise ValidationError."""
    result: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        idp_value, sep, role = line.partition("=")
        if not sep or not idp_value.strip() or not role.strip():
            problems.append(f"Line {number} should read like “teacher = earner”.")
            continue
        result[idp_value.strip().lower()] = role.strip().lower()
    if problems:
        raise ValidationError({"role_map": problems})
    return result


def format_role_map(role_map: dict[str, str]) -> str:
    return "\n".join(f"{value} = {role}" for value, role in sorted(role_map.items()))


def _normalize_cert(text: str) -> str:
    """The certificate's base64 body: what python3-saml takes, with or without PEM lines."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def _check(settings: IdpSettings, existing: IdentityProvider | None) -> None:
    """Every problem at once, keyed by the form field it concerns."""
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if settings.kind not in Kind.values:
        problem("kind", "Choose OpenID Connect or SAML 2.0.")
    if settings.organization.kind not in IDP_ORG_KINDS:
        problem("organization", "An identity provider belongs to the state agency or a district.")
    if not settings.name.strip():
        problem("name", "Enter the name people know the service by, such as NCEdCloud.")
    if not [a for a in settings.organization_attribute.split(",") if a.strip()]:
        problem(
            "organization_attribute",
            "Enter the attribute that holds the district or school code, such as lea_code.",
        )
    grantable = ", ".join(str(Role(r).label) for r in SSO_GRANTABLE_ROLES)
    for idp_value, role in settings.role_map.items():
        if role not in SSO_GRANTABLE_ROLES:
            problem(
                "role_map",
                f"“{idp_value} = {role}”: single sign-on can give only these roles: {grantable}. "
                "Admin roles are given in microcred by another admin.",
            )
    if settings.default_role and settings.default_role not in SSO_GRANTABLE_ROLES:
        problem("default_role", f"Choose one of: {grantable}, or none.")
    if settings.role_map and not settings.role_attribute.strip():
        problem("role_attribute", "Name the attribute that holds the roles the list maps.")
    if not settings.role_map and not settings.default_role:
        problem("default_role", "Choose the role people get, or map the IdP's roles.")
    for domain in settings.email_domains:
        if not DOMAIN_RE.match(domain):
            problem("email_domains", f"“{domain}” is not a domain such as wcpss.net.")
    url = URLValidator(schemes=["https", "http"])
    secret_kept = existing is not None and bool(existing.social_app.secret)
    if settings.kind == Kind.OIDC:
        try:
            url(settings.server_url)
        except ValidationError:
            problem("server_url", "Enter the IdP's address, such as https://idp.example.org.")
        if not settings.client_id.strip():
            problem("client_id", "Enter the client ID the IdP gave microcred.")
        if not settings.client_secret and not secret_kept:
            problem("client_secret", "Enter the client secret the IdP gave microcred.")
    elif settings.kind == Kind.SAML:
        if not settings.idp_entity_id.strip():
            problem("idp_entity_id", "Enter the IdP's entity ID (from its metadata).")
        try:
            url(settings.sso_url)
        except ValidationError:
            problem("sso_url", "Enter the IdP's single sign-on address (HTTP-Redirect binding).")
        if not _normalize_cert(settings.x509_cert) and not (
            existing and existing.social_app.settings.get("idp", {}).get("x509cert")
        ):
            problem("x509_cert", "Paste the IdP's signing certificate (PEM).")
        elif settings.x509_cert and not _cert_loads(_normalize_cert(settings.x509_cert)):
            problem("x509_cert", "This is not a certificate: paste the PEM text, BEGIN to END.")
    if existing is not None and existing.kind != settings.kind:
        problem("kind", "The protocol of an identity provider cannot change; add a new one.")
    if errors:
        raise ValidationError(errors)


def _cert_loads(body: str) -> bool:
    import base64
    import binascii

    from cryptography import x509

    try:
        x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except (ValueError, binascii.Error):
        return False
    return True


def _new_provider_id(settings: IdpSettings) -> str:
    """A stable, unique, URL-safe id: it names the app in allauth's URLs (SAML's ACS URL,
    the OIDC callback), which the IdP's administrators register once."""
    base = f"{settings.kind}-{slugify(settings.organization.slug)}-{slugify(settings.name)}"[:60]
    taken = set(
        SocialApp.objects.filter(provider_id__startswith=base).values_list("provider_id", flat=True)
    )
    return next(c for c in [base, *(f"{base}-{n}" for n in range(2, 1000))] if c not in taken)


def _apply_to_app(app: SocialApp, settings: IdpSettings) -> None:
    app.name = settings.name.strip()
    if settings.kind == Kind.OIDC:
        app.provider = ALLAUTH_PROVIDER[Kind.OIDC]
        app.client_id = settings.client_id.strip()
        if settings.client_secret:
            app.secret = settings.client_secret
        app.settings = {
            **app.settings,
            "server_url": settings.server_url.strip(),
            "oauth_pkce_enabled": True,
            "verified_email": list(settings.email_domains),
        }
        return
    app.provider = ALLAUTH_PROVIDER[Kind.SAML]
    app.client_id = app.provider_id  # the slug in allauth's SAML URLs
    idp = dict(app.settings.get("idp", {}))
    idp.update(entity_id=settings.idp_entity_id.strip(), sso_url=settings.sso_url.strip())
    if settings.x509_cert:
        idp["x509cert"] = _normalize_cert(settings.x509_cert)
    mapping = {
        key: [a for a in [given.strip()] if a] + SAML_DEFAULTS[key]
        for key, given in (
            ("email", settings.email_attribute),
            ("first_name", settings.first_name_attribute),
            ("last_name", settings.last_name_attribute),
        )
    }
    app.settings = {
        "idp": idp,
        "attribute_mapping": mapping,
        "verified_email": list(settings.email_domains),
        "advanced": {
            # Only a signed assertion, answering a request microcred sent, is accepted.
            "strict": True,
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "want_attribute_statement": True,
        },
    }


def _audit_view(idp: IdentityProvider) -> dict[str, Any]:
    """The settings as the audit log keeps them: never a secret."""
    app = idp.social_app
    data: dict[str, Any] = {
        "kind": idp.kind,
        "name": idp.name,
        "organization_attribute": idp.organization_attribute,
        "role_attribute": idp.role_attribute,
        "role_map": idp.role_map,
        "default_role": idp.default_role,
        "email_domains": idp.email_domains,
        "counts_as_second_factor": idp.counts_as_second_factor,
        "active": idp.active,
    }
    if idp.kind == Kind.OIDC:
        data.update(server_url=app.settings.get("server_url", ""), client_id=app.client_id)
    else:
        saml = app.settings.get("idp", {})
        data.update(entity_id=saml.get("entity_id", ""), sso_url=saml.get("sso_url", ""))
    return data


@transaction.atomic
def save_identity_provider(
    actor: Any, settings: IdpSettings, *, existing: IdentityProvider | None = None
) -> IdentityProvider:
    """Create an IdP (existing=None) or change one; audited with before and after, secrets
    left out. A change that leaves everything as it was records nothing."""
    if not may_manage(actor, settings.organization) or (
        existing is not None and not may_manage(actor, existing.organization)
    ):
        raise PermissionDenied("You can set up sign-in only for organizations you run.")
    settings.email_domains = sorted({d.strip().lower() for d in settings.email_domains if d})
    if existing is not None:
        existing = IdentityProvider.objects.select_for_update().get(pk=existing.pk)
    _check(settings, existing)
    if existing is None:
        app = SocialApp(provider_id=_new_provider_id(settings))
        idp = IdentityProvider(kind=settings.kind)
        before: dict[str, Any] | None = None
        old_secret = old_cert = ""
    else:
        idp, app = existing, existing.social_app
        before = _audit_view(existing)
        old_secret = app.secret
        old_cert = app.settings.get("idp", {}).get("x509cert", "")
    _apply_to_app(app, settings)
    idp.social_app = app
    idp.organization = settings.organization
    idp.name = settings.name.strip()
    idp.organization_attribute = ",".join(
        a.strip() for a in settings.organization_attribute.split(",") if a.strip()
    )
    idp.role_attribute = settings.role_attribute.strip()
    idp.role_map = settings.role_map
    idp.default_role = settings.default_role
    idp.email_domains = settings.email_domains
    idp.counts_as_second_factor = settings.counts_as_second_factor
    idp.active = settings.active
    after = _audit_view(idp)
    secret_changed = app.secret != old_secret
    cert_changed = app.settings.get("idp", {}).get("x509cert", "") != old_cert
    if before == after and not secret_changed and not cert_changed:
        return idp
    app.save()
    idp.social_app = app  # now with its primary key
    idp.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    idp.save()
    record_audit(
        actor,
        "sso.idp_created" if before is None else "sso.idp_updated",
        idp,
        organization=idp.organization,
        data={
            "before": before,
            "after": after,
            # That a secret or certificate changed is worth knowing; its value is not.
            "secret_changed": secret_changed and before is not None,
            "certificate_changed": cert_changed and before is not None,
        },
    )
    return idp


# ---------------------------------------------------------------------------- sign-in
def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(item).strip() for item in items if str(item).strip()]


def attributes_from(kind: str, extra_data: Any) -> dict[str, list[str]]:
    """The IdP's attributes as name -> values: SAML's come as lists already; OpenID Connect's
    claims merge the ID token's and the userinfo endpoint's (userinfo wins)."""
    if not isinstance(extra_data, dict):
        return {}
    if kind == Kind.OIDC:
        claims = {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}
        return {name: _values(value) for name, value in claims.items()}
    return {name: _values(value) for name, value in extra_data.items()}


@dataclass(frozen=True)
class SignInPlan:
    """What a sign-in gives: (organization id, role) pairs, and roles left out and why."""

    grants: tuple[tuple[int, str], ...]
    skipped: tuple[str, ...] = ()


def _ask(idp: IdentityProvider) -> str:
    contacts = contacts_of(idp.organization)
    who = f"the program office of {idp.organization.name}"
    return who + (f" ({', '.join(contacts)})" if contacts else "")


def _resolve(idp: IdentityProvider, code: str, inside: set[int]) -> Organization:
    matches = [
        org
        for org in Organization.objects.filter(code__iexact=code, kind__in=MEMBER_ORG_KINDS)
        if org.pk in inside and org.active
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SsoRefused(
            f"Your district or school (code {code}) is not set up in microcred yet, so you "
            f"cannot sign in with {idp.name} for now. Nothing was created. Ask {_ask(idp)} "
            "to add it; if you already have a microcred password, you can sign in with it.",
            code="unknown_organization",
        )
    raise SsoRefused(
        f"The code {code} names both a district and a school in {idp.organization.name}, so "
        f"microcred cannot tell where you work. Nothing was created. Ask {_ask(idp)} to "
        "give them different codes.",
        code="ambiguous_organization",
    )


def plan_sign_in(idp: IdentityProvider, attributes: dict[str, list[str]]) -> SignInPlan:
    """Which organizations and roles this person gets, from what the IdP sent. Refuses (with
    SsoRefused) an inactive IdP, a missing or unknown code, a code outside the IdP's
    organization and a person with no role microcred can give."""
    if not idp.active:
        raise SsoRefused(
            f"Signing in with {idp.name} is switched off in microcred. Sign in with your "
            f"microcred password, or ask {_ask(idp)}.",
            code="inactive",
        )
    codes: list[str] = []
    names = [a.strip() for a in idp.organization_attribute.split(",") if a.strip()]
    for name in names:
        codes = attributes.get(name, [])
        if codes:
            break
    if not codes:
        raise SsoRefused(
            f"{idp.name} did not say which district or school you work in (it sent no "
            f"“{' or '.join(names)}”), so microcred cannot set up your account. Nothing was "
            f"created. Ask {_ask(idp)} to check what {idp.name} sends.",
            code="no_organization",
        )
    inside = selectors.organization_subtree_ids({idp.organization.pk})
    organizations = [_resolve(idp, code, inside) for code in dict.fromkeys(codes)]
    idp_roles = [v.lower() for v in attributes.get(idp.role_attribute, [])]
    roles = list(dict.fromkeys(idp.role_map[v] for v in idp_roles if v in idp.role_map))
    if not roles and idp.default_role:
        roles = [idp.default_role]
    if not roles:
        sent = ", ".join(idp_roles) or "none"
        raise SsoRefused(
            f"{idp.name} sent no role that microcred gives through single sign-on (it sent: "
            f"{sent}). Nothing was created. Ask {_ask(idp)} to add your role to the list.",
            code="no_role",
        )
    grants: list[tuple[int, str]] = []
    skipped: list[str] = []
    for org in organizations:
        for role in roles:
            problem = role_fit_problem(role, org)
            if problem:
                skipped.append(f"{org.name}: {problem}")
            else:
                grants.append((org.pk, role))
    if not grants:
        raise SsoRefused(
            " ".join(skipped) + f" Nothing was created. Ask {_ask(idp)} to check your role.",
            code="role_does_not_fit",
        )
    return SignInPlan(tuple(grants), tuple(skipped))


def apply_sign_in(idp: IdentityProvider, user: User, plan: SignInPlan) -> dict[str, list[str]]:
    """Give the person the plan's roles: a missing membership is created, a removed one
    restored, each recorded as granted by this IdP. Memberships this IdP granted earlier and no
    longer asserts are removed; those granted locally are left alone. Returns what changed."""
    changes: dict[str, list[str]] = {"added": [], "restored": [], "removed": []}
    wanted: set[int] = set()
    with transaction.atomic():
        for org_id, role in plan.grants:
            membership, made = Membership.objects.select_for_update().get_or_create(
                user=user, organization_id=org_id, role=role
            )
            wanted.add(membership.pk)
            grant = SsoMembershipGrant.objects.filter(membership=membership).first()
            if made or not membership.active:
                outcome = "added" if made else "restored"
                if not made:
                    membership.active = True
                    membership.save(update_fields=["active"])
                if grant is None:
                    SsoMembershipGrant.objects.create(membership=membership, identity_provider=idp)
                changes[outcome].append(f"{role}@{org_id}")
                record_audit(
                    user,
                    f"membership.{outcome}",
                    membership,
                    organization=membership.organization,
                    data={"source": "sso", "identity_provider": idp.pk, "role": role},
                )
            elif grant is not None:
                grant.save(update_fields=["last_seen"])  # still asserted
        stale = (
            SsoMembershipGrant.objects.filter(
                identity_provider=idp, membership__user=user, membership__active=True
            )
            .exclude(membership_id__in=wanted)
            .select_related("membership__organization")
        )
        for grant in stale:
            membership = grant.membership
            Membership.objects.filter(pk=membership.pk).update(active=False)
            changes["removed"].append(f"{membership.role}@{membership.organization_id}")
            record_audit(
                user,
                "membership.removed",
                membership,
                organization=membership.organization,
                reason=f"{idp.name} no longer gives this role.",
                data={"source": "sso", "identity_provider": idp.pk, "role": membership.role},
            )
            grant.delete()
        record_audit(
            user,
            "sso.signed_in",
            user,
            organization=idp.organization,
            data={"identity_provider": idp.pk, "skipped": list(plan.skipped), **changes},
        )
    selectors.forget_cached_access(user)
    return changes


def email_domain_trusted(idp: IdentityProvider, email: str) -> bool:
    """Whether the IdP speaks for this address, so that it may sign into the account that
    already has it."""
    domain = email.rpartition("@")[2].lower()
    return bool(domain) and domain in {d.lower() for d in idp.email_domains}


def refusal_for_existing_email(idp: IdentityProvider, email: str) -> SsoRefused:
    return SsoRefused(
        f"A microcred account with the address {email} already exists, and {idp.name} is not "
        f"set up to sign into it. Sign in with your microcred password; nothing was changed. "
        f"Ask {_ask(idp)} if you want to use {idp.name} for it.",
        code="email_taken",
    )


def split_domains(text: str) -> list[str]:
    return [d for d in re.split(r"[\s,;]+", text.strip().lower()) if d]
