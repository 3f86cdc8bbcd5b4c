"""The educator's record: what they hold and what it earned them, for their own page and
the printable transcript. Reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.urls import reverse

from microcred.catalog.models import Stack
from microcred.credentials.models import StackAward

from .arithmetic import figure
from .models import LedgerEntry, RecognitionRule
from .renewal import RenewalProgress, renewal_progress

Kind = RecognitionRule.Kind
ZERO = Decimal("0")


@dataclass(frozen=True)
class CredentialLine:
    title: str
    kind: str  # "Micro-credential" or "Stack"
    issued_on: date
    issuer: str
    hours: Any
    state: str  # "valid", "revoked", "expired"
    state_label: str
    detail: str
    url: str

    @property
    def revoked(self) -> bool:
        return self.state == "revoked"


@dataclass(frozen=True)
class StackLine:
    title: str
    url: str
    held: int
    needed: int
    complete: bool

    @property
    def sentence(self) -> str:
        if self.complete:
            return "Complete: the stack credential is on its way."
        return f"{self.held} of {self.needed} micro-credentials"


@dataclass(frozen=True)
class LedgerLine:
    title: str
    kind: str
    kind_label: str
    figure: str
    status: str
    status_label: str
    earned_on: date
    policy: str
    recognizer: str
    reversal: bool
    reason: str
    quantity: Decimal
    amount: Decimal


@dataclass
class Figures:
    """One kind's lines and their net total (reversals included, unfunded stipends not)."""

    kind: str
    label: str
    lines: list[LedgerLine] = field(default_factory=list)
    quantity: Decimal = ZERO
    amount: Decimal = ZERO

    @property
    def total(self) -> str:
        return figure(self.kind, self.quantity, self.amount)


@dataclass
class Record:
    educator: Any
    credentials: list[CredentialLine]
    stacks: list[StackLine]
    progress: RenewalProgress | None
    figures: dict[str, Figures]
    roles: list[str]

    @property
    def ledger_lines(self) -> list[LedgerLine]:
        return sorted(
            (line for f in self.figures.values() for line in f.lines),
            key=lambda line: (line.earned_on, line.title),
        )

    def of(self, kind: str) -> Figures:
        return self.figures.get(kind) or Figures(kind, Kind(kind).label)

    @property
    def stipends(self) -> Figures:
        return self.of(Kind.STIPEND)

    @property
    def salary(self) -> Figures:
        return self.of(Kind.SALARY)

    @property
    def masters(self) -> Figures:
        return self.of(Kind.MASTERS)

    @property
    def contact_units(self) -> Figures:
        return self.of(Kind.CONTACT_UNITS)

    @property
    def ceus(self) -> Figures:
        return self.of(Kind.CEU)


def credential_lines(educator: Any) -> list[CredentialLine]:
    # Read lazily: its verifier pulls in the JSON-LD stack, which pages need not load.
    from microcred.credentials import selectors as credentials

    lines = []
    for credential in credentials.credentials_of(educator):
        about = credentials.summary_of(credential)
        state = credentials.credential_state(credential)
        lines.append(
            CredentialLine(
                title=about.title,
                kind=about.kind,
                issued_on=credential.issued_at.date(),
                issuer=credential.issuer.name,
                hours=about.hours,
                state=state.state,
                state_label=state.label,
                detail=state.detail,
                url=reverse("credentials:credential", args=[credential.uuid]),
            )
        )
    return lines


def stacks_in_progress(educator: Any) -> list[StackLine]:
    """Published stacks of which the educator holds at least one micro-credential and no
    stack credential yet, with how far along they are."""
    # Read lazily: its verifier pulls in the JSON-LD stack, which pages need not load.
    from microcred.credentials import selectors as credentials

    held = credentials.held_credentials(educator)
    if not held:
        return []
    awarded = StackAward.objects.filter(earner=educator, credential__isnull=False).values(
        "stack_id"
    )
    stacks = (
        Stack.objects.filter(
            status=Stack.Status.PUBLISHED, members__micro_credential_id__in=list(held)
        )
        .exclude(pk__in=awarded)
        .distinct()
        .prefetch_related("members")
        .order_by("title")
    )
    lines = []
    for stack in stacks:
        progress = credentials.stack_progress(educator, stack, held)
        members = list(stack.members.all())
        required = sum(1 for m in members if m.required)
        needed = required + min(stack.min_electives, len(members) - required)
        lines.append(
            StackLine(
                stack.title,
                reverse("catalog:stack", args=[stack.slug]),
                min(len(progress.used), needed),
                needed,
                progress.complete,
            )
        )
    return lines


def _line(entry: LedgerEntry) -> LedgerLine:
    return LedgerLine(
        title=entry.title,
        kind=entry.kind,
        kind_label=entry.get_kind_display(),
        figure=figure(entry.kind, entry.quantity, entry.amount),
        status=entry.status,
        status_label=entry.get_status_display(),
        earned_on=entry.earned_on,
        policy=entry.policy.name,
        recognizer=entry.policy.recognizer.name,
        reversal=entry.is_reversal,
        reason=entry.reason,
        quantity=entry.quantity,
        amount=entry.amount,
    )


def ledger_figures(educator: Any) -> tuple[dict[str, Figures], list[str]]:
    """The educator's entries by kind with their net totals, and the roles they hold now."""
    entries = (
        LedgerEntry.objects.filter(educator_id=educator.pk)
        .select_related("policy__recognizer", "rule")
        .order_by("earned_on", "pk")
    )
    figures: dict[str, Figures] = {}
    roles: dict[tuple[Any, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        box = figures.setdefault(entry.kind, Figures(entry.kind, entry.get_kind_display()))
        box.lines.append(_line(entry))
        if entry.status == LedgerEntry.Status.UNFUNDED:
            continue
        box.quantity += entry.quantity
        box.amount += entry.amount
        if entry.kind == Kind.ROLE:
            roles[(entry.policy.series, entry.rule.role_title)] += entry.quantity
    held_roles = sorted({title for (_, title), net in roles.items() if net > 0})
    return figures, held_roles


def record_of(educator: Any) -> Record:
    figures, roles = ledger_figures(educator)
    return Record(
        educator=educator,
        credentials=credential_lines(educator),
        stacks=stacks_in_progress(educator),
        progress=renewal_progress(educator),
        figures=figures,
        roles=roles,
    )
