"""Demo organizations and people: a small state with three districts, providers, an issuer and an
assessment organization, and one account for every role.

`ACCOUNTS` is the one list of demo sign-ins; README.md shows it and tests read it.

Accounts whose role requires two-step sign-in (orgs/mfa.py) come with an authenticator app
already set up on `DEMO_TOTP_SECRET`, a published secret like the demo passwords: an evaluator
adds it to any authenticator app, or runs `manage.py demo_mfa_code` for the current code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from . import mfa, services
from .models import Membership, Organization, Role, User

K = Organization.Kind


class DemoOrg(NamedTuple):
    slug: str
    kind: str
    name: str
    parent: str | None = None
    region: str = ""
    locale: str = ""
    low_wealth: bool = False
    size: str = ""
    website: str = ""


ORGANIZATIONS: list[DemoOrg] = [
    DemoOrg("state-dpi", K.STATE_AGENCY, "State Department of Public Instruction (demo)"),
    # Districts differ on the facts evaluation compares: locale, wealth and size.
    DemoOrg(
        "pine-ridge-county",
        K.LEA,
        "Pine Ridge County Schools",
        "state-dpi",
        region="Western",
        locale="rural",
        low_wealth=True,
        size="small",
    ),
    DemoOrg(
        "maple-valley",
        K.LEA,
        "Maple Valley Schools",
        "state-dpi",
        region="Piedmont",
        locale="suburb",
        size="medium",
    ),
    DemoOrg(
        "harbor-city",
        K.LEA,
        "Harbor City Public Schools",
        "state-dpi",
        region="Coastal",
        locale="city",
        size="large",
    ),
    DemoOrg("laurel-creek-es", K.SCHOOL, "Laurel Creek Elementary School", "pine-ridge-county"),
    DemoOrg("pine-ridge-ms", K.SCHOOL, "Pine Ridge Middle School", "pine-ridge-county"),
    DemoOrg("maple-valley-es", K.SCHOOL, "Maple Valley Elementary School", "maple-valley"),
    DemoOrg("maple-valley-hs", K.SCHOOL, "Maple Valley High School", "maple-valley"),
    DemoOrg("harborview-es", K.SCHOOL, "Harborview Elementary School", "harbor-city"),
    DemoOrg("dockside-ms", K.SCHOOL, "Dockside Middle School", "harbor-city"),
    DemoOrg("coaching-leaders-institute", K.PROVIDER, "Coaching Leaders Institute"),
    DemoOrg("early-literacy-collaborative", K.PROVIDER, "Early Literacy Collaborative"),
    DemoOrg("formative-assessment-lab", K.PROVIDER, "Formative Assessment Lab"),
    DemoOrg("state-issuer", K.ISSUER, "State Micro-credential Issuer (demo)", "state-dpi"),
    DemoOrg("educator-assessment-center", K.ASSESSMENT_ORG, "Educator Assessment Center (demo)"),
]


class DemoAccount(NamedTuple):
    """One sign-in and one role it holds; an email listed twice holds several roles.
    `role=None` marks the site superuser."""

    email: str
    password: str
    role: str | None
    organization: str | None
    name: str


ACCOUNTS: list[DemoAccount] = [
    DemoAccount(
        "earner@demo.microcred.org",
        "demo-earner-pass",
        Role.EARNER,
        "laurel-creek-es",
        "Maya Ellison",
    ),
    DemoAccount(
        "teacher@demo.microcred.org",
        "demo-teacher-pass",
        Role.EARNER,
        "harborview-es",
        "Daniel Okafor",
    ),
    DemoAccount(
        "coach@demo.microcred.org",
        "demo-coach-pass",
        Role.COACH,
        "laurel-creek-es",
        "Carlos Rivera",
    ),
    DemoAccount(
        "principal@demo.microcred.org",
        "demo-principal-pass",
        Role.PRINCIPAL,
        "laurel-creek-es",
        "Denise Howard",
    ),
    DemoAccount(
        "provider@demo.microcred.org",
        "demo-provider-pass",
        Role.PROVIDER_AUTHOR,
        "coaching-leaders-institute",
        "Priya Natarajan",
    ),
    DemoAccount(
        "provider@demo.microcred.org",
        "demo-provider-pass",
        Role.PROVIDER_AUTHOR,
        "early-literacy-collaborative",
        "Priya Natarajan",
    ),
    DemoAccount(
        "provider@demo.microcred.org",
        "demo-provider-pass",
        Role.PROVIDER_AUTHOR,
        "formative-assessment-lab",
        "Priya Natarajan",
    ),
    DemoAccount(
        "reviewer@demo.microcred.org",
        "demo-reviewer-pass",
        Role.VETTING_REVIEWER,
        "state-dpi",
        "Robert Chen",
    ),
    DemoAccount(
        "researcher@demo.microcred.org",
        "demo-researcher-pass",
        Role.RESEARCHER,
        "state-dpi",
        "Grace Okafor",
    ),
    DemoAccount(
        "state-admin@demo.microcred.org",
        "demo-state-admin-pass",
        Role.PROGRAM_ADMIN,
        "state-dpi",
        "Linda Foster",
    ),
    DemoAccount(
        "district-admin@demo.microcred.org",
        "demo-district-admin-pass",
        Role.PROGRAM_ADMIN,
        "maple-valley",
        "Marcus Bell",
    ),
    DemoAccount(
        "assessor@demo.microcred.org",
        "demo-assessor-pass",
        Role.ASSESSOR,
        "educator-assessment-center",
        "Angela Moore",
    ),
    DemoAccount(
        "scoring-lead@demo.microcred.org",
        "demo-scoring-lead-pass",
        Role.SCORING_LEAD,
        "educator-assessment-center",
        "Samuel Ortiz",
    ),
    DemoAccount(
        "issuer@demo.microcred.org",
        "demo-issuer-pass",
        Role.ISSUER_ADMIN,
        "state-issuer",
        "Hannah Kim",
    ),
    DemoAccount(
        "recognizer@demo.microcred.org",
        "demo-recognizer-pass",
        Role.RECOGNIZER_ADMIN,
        "state-dpi",
        "James Whitfield",
    ),
    DemoAccount(
        "hr@demo.microcred.org",
        "demo-hr-pass",
        Role.RECOGNIZER_ADMIN,
        "pine-ridge-county",
        "Rosa Delgado",
    ),
    DemoAccount("admin@demo.microcred.org", "demo-admin-pass", None, None, "Site Administrator"),
]


# Base32, as authenticator apps take it. For the local demo only, like the passwords above.
DEMO_TOTP_SECRET = "MICROCREDDEMOTOTPSECRETFORADMINS"


def demo_totp_code(at: float | None = None) -> str:
    """The code an authenticator app set up on DEMO_TOTP_SECRET shows now (or at `at`)."""
    from allauth.mfa import app_settings

    moment = time.time() if at is None else at
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(moment) // app_settings.TOTP_PERIOD))


@dataclass
class DemoWorld:
    """What the catalog demo needs from here: organizations by slug, people by email."""

    organizations: dict[str, Organization]
    people: dict[str, User]

    def person(self, role: str | None) -> User:
        """The demo account holding a role (the first listed); None gives the superuser."""
        email = next(a.email for a in ACCOUNTS if a.role == role)
        return self.people[email]

    @property
    def admin(self) -> User:
        """The demo superuser, who sets up the organizations and imports the standards."""
        return self.person(None)


def _ensure_organization(actor: User, spec: DemoOrg, parent: Organization | None) -> Organization:
    org = Organization.objects.filter(slug=spec.slug).first()
    if org is not None:
        return org
    district_facts = (
        {
            "region": spec.region,
            "locale": spec.locale,
            "low_wealth": spec.low_wealth,
            "size": spec.size,
        }
        if spec.kind == K.LEA
        else {}
    )
    return services.create_organization(
        actor,
        kind=spec.kind,
        name=spec.name,
        slug=spec.slug,
        parent=parent,
        website=spec.website,
        **district_facts,
    )


def _ensure_person(account: DemoAccount) -> User:
    user = User.objects.filter(email=account.email).first()
    if user is not None:
        return user
    manager = User.objects
    create = manager.create_superuser if account.role is None else manager.create_user
    return create(email=account.email, password=account.password, display_name=account.name)


def load_organizations_and_people() -> DemoWorld:
    """Create whatever of the demo organizations, accounts and roles is missing, through the
    same services an administrator uses (validation and audit included); existing records are
    left as they are, so running it again changes nothing."""
    people: dict[str, User] = {}
    # Accounts first: the superuser is the actor who sets up the organizations and roles, and
    # people who already have a password get no invitation email.
    for account in ACCOUNTS:
        if account.email not in people:
            people[account.email] = _ensure_person(account)
    world = DemoWorld(organizations={}, people=people)
    admin, organizations = world.admin, world.organizations
    for spec in ORGANIZATIONS:  # parents are listed before their children
        parent = organizations[spec.parent] if spec.parent else None
        organizations[spec.slug] = _ensure_organization(admin, spec, parent)
    for account in ACCOUNTS:
        if account.role is None or account.organization is None:
            continue
        org = organizations[account.organization]
        user = people[account.email]
        if not Membership.objects.filter(
            user=user, organization=org, role=account.role, active=True
        ).exists():
            services.add_membership(admin, org, email=user.email, role=account.role)
    for user in people.values():
        _ensure_second_factor(user)
    return world


def _ensure_second_factor(user: User) -> None:
    """Privileged demo accounts get the demo authenticator app and recovery codes, so that
    they can sign in at once (their role allows no sign-in without a second step)."""
    if not mfa.holds_mfa_role(user) or mfa.has_authenticator(user):
        return
    TOTP.activate(user, DEMO_TOTP_SECRET)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
