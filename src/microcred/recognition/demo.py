"""The demo's currency: the state's license renewal policy, one Pine Ridge County policy of
each other kind, approvals for those uses, licenses for the demo teachers, and the ledger
entries their credentials earn. Runs inside `load_demo`'s transaction, after the credentials;
safe to run again (what exists is left alone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from microcred.catalog import services as catalog
from microcred.catalog.models import Approval, ApprovedUse, MicroCredentialVersion, Stack
from microcred.orgs.demo import DemoWorld
from microcred.orgs.models import Organization, Role, User

from . import posting, services
from .models import LedgerEntry, License, RecognitionPolicy, RenewalCycle

STATE = "state-dpi"
DISTRICT = "pine-ridge-county"
HARBOR = "harbor-city"
HR_EMAIL = "hr@demo.microcred.org"
IN_FORCE_FROM = date(2024, 7, 1)


def _policies(stack: Stack | None) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(recognizer slug, policy name, rules)."""
    role = (
        [
            (
                DISTRICT,
                "Formative assessment lead",
                [{"kind": "role", "role_title": "Formative assessment lead", "stacks": [stack]}],
            )
        ]
        if stack is not None
        else []
    )
    return [
        (
            STATE,
            "License renewal",
            [
                {"kind": "ceu", "ceu_source": "hours", "hours_per_ceu": Decimal("10")},
                {"kind": "renewal_count", "mcs_required": 4},
            ],
        ),
        (
            DISTRICT,
            "Micro-credential stipends",
            [
                {
                    "kind": "stipend",
                    "amount": Decimal("300"),
                    "budget": Decimal("1500"),
                    "funding_source": "Title II, Part A",
                }
            ],
        ),
        (
            DISTRICT,
            "Salary steps for micro-credentials",
            [
                {
                    "kind": "salary",
                    "salary_foundational": Decimal("200"),
                    "salary_intermediate": Decimal("400"),
                    "salary_advanced": Decimal("600"),
                }
            ],
        ),
        (
            DISTRICT,
            "Master's equivalency",
            [{"kind": "masters", "mcs_per_credit": 2, "cap": Decimal("15")}],
        ),
        (
            DISTRICT,
            "Contact units",
            [{"kind": "contact_units", "units_per_hour": Decimal("1"), "cap": Decimal("30")}],
        ),
        *role,
        (
            HARBOR,
            "Micro-credential stipends",
            [
                {
                    "kind": "stipend",
                    "amount": Decimal("250"),
                    "budget": Decimal("5000"),
                    "funding_source": "District professional learning fund",
                }
            ],
        ),
    ]


# The uses each recognizer approves every published demo MC for.
APPROVED_USES = {
    STATE: [ApprovedUse.LICENSE_RENEWAL],
    DISTRICT: [
        ApprovedUse.STIPEND,
        ApprovedUse.SALARY,
        ApprovedUse.MASTERS,
        ApprovedUse.PROFESSIONAL_LEARNING,
    ],
    HARBOR: [ApprovedUse.STIPEND],
}

# (email, license number, area, cycle start, cycle end)
LICENSES = [
    (
        "earner@demo.microcred.org",
        "1000245",
        "Elementary Education (K-6)",
        date(2022, 7, 1),
        date(2027, 6, 30),
    ),
    (
        "teacher@demo.microcred.org",
        "1000311",
        "English as a Second Language (K-12)",
        date(2025, 7, 1),
        date(2030, 6, 30),
    ),
]


@dataclass
class RecognitionReport:
    policies: list[str] = field(default_factory=list)
    approvals: int = 0
    licenses: int = 0
    entries: int = 0


def _hr_officer(world: DemoWorld) -> User:
    return world.people.get(HR_EMAIL) or world.person(Role.RECOGNIZER_ADMIN)


def _actor_for(world: DemoWorld, slug: str) -> User:
    """The recognizer admin who acts for the office (the site admin for Harbor City)."""
    if slug == STATE:
        return world.person(Role.RECOGNIZER_ADMIN)
    return _hr_officer(world) if slug == DISTRICT else world.admin


def _approve(world: DemoWorld, report: RecognitionReport) -> None:
    published = MicroCredentialVersion.objects.filter(
        status=MicroCredentialVersion.Status.PUBLISHED
    )
    for slug, uses in APPROVED_USES.items():
        recognizer = world.organizations[slug]
        for version in published:
            for use in uses:
                exists = Approval.objects.filter(
                    version=version, use=use, recognizer=recognizer, withdrawn_at__isnull=True
                ).exists()
                if not exists:
                    catalog.approve_for_use(
                        version, recognizer=recognizer, actor=_actor_for(world, slug), use=use
                    )
                    report.approvals += 1


def _policy(world: DemoWorld, slug: str, name: str, rules: list[dict[str, Any]]) -> bool:
    recognizer: Organization = world.organizations[slug]
    if RecognitionPolicy.objects.filter(recognizer=recognizer, name=name).exists():
        return False
    actor = _actor_for(world, slug)
    policy = services.create_policy(actor, recognizer, name=name, effective_from=IN_FORCE_FROM)
    for rule in rules:
        services.add_rule(actor, policy, **rule)
    services.activate(actor, policy)
    return True


def _licenses(world: DemoWorld, report: RecognitionReport) -> None:
    state = world.organizations[STATE]
    for email, number, area, starts, ends in LICENSES:
        license, created = License.objects.get_or_create(
            state=state, number=number, defaults={"educator": world.people[email], "area": area}
        )
        RenewalCycle.objects.get_or_create(
            license=license,
            starts_on=starts,
            defaults={"ends_on": ends, "ceus_required": Decimal("8.0"), "mcs_required": 4},
        )
        report.licenses += created


def load_recognition(world: DemoWorld) -> RecognitionReport:
    report = RecognitionReport()
    _approve(world, report)
    stack = Stack.objects.filter(title="Checking for Understanding").first()
    for slug, name, rules in _policies(stack):
        if _policy(world, slug, name, rules):
            report.policies.append(f"{world.organizations[slug].name}: {name}")
    _licenses(world, report)
    # The credentials issued earlier in this transaction post on commit through the task
    # queue; posting now lets the demo open on a ledger with entries in it.
    report.entries = posting.repair()
    # The state licensure office has approved the CEUs of the first teacher's credentials.
    state_ceus = LedgerEntry.objects.filter(
        policy__recognizer__slug=STATE,
        status=LedgerEntry.Status.PENDING,
        educator__email=LICENSES[0][0],
    )
    services.approve_entries(world.person(Role.RECOGNIZER_ADMIN), state_ceus)
    return report


def post_revocations() -> int:
    """The reversing entries of credentials the demo revoked after they were posted."""
    return posting.repair()
