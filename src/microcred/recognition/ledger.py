"""Reads of the ledger for HR, PD and licensure offices: the entries of their policies, the
budgets of their stipends, their exports as CSV rows, and who holds the skills their roles
ask for. One row shape (`EntryRow`) feeds the page, the API and the CSV, so the three agree.

`approve_selected` is the one write here: it splits the posted ids into the office's own
entries (handed to `services.approve_entries`) and the rest (skipped, never touched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from microcred.catalog.models import MicroCredentialVersion, Stack
from microcred.orgs.models import Membership, Organization
from microcred.orgs.selectors import ancestor_ids, is_active_superuser, organization_subtree_ids

from . import arithmetic, posting, services
from .models import (
    LedgerEntry,
    LedgerExport,
    License,
    RecognitionPolicy,
    RecognitionRule,
)
from .posting import Held, held_by  # noqa: F401  (Held: what held_by gives, for callers of this module)
from .rules import recognizer_ids_of

Kind = RecognitionRule.Kind
Status = LedgerEntry.Status
ZERO = Decimal("0")
MONEY_KINDS = frozenset({Kind.STIPEND, Kind.SALARY})


# ---------------------------------------------------------------------------- offices
def office_ids(user: Any) -> frozenset[int]:
    """The recognizers whose ledger the user keeps: where they are a recognizer admin; for a
    superuser, every organization that has a policy."""
    if is_active_superuser(user):
        return frozenset(
            RecognitionPolicy.objects.values_list("recognizer_id", flat=True).distinct()
        )
    return recognizer_ids_of(user)


def offices(user: Any) -> QuerySet[Organization]:
    return Organization.objects.filter(pk__in=office_ids(user)).order_by("name")


def office_policies(user: Any) -> QuerySet[RecognitionPolicy]:
    return (
        RecognitionPolicy.objects.filter(recognizer_id__in=office_ids(user))
        .select_related("recognizer")
        .order_by("recognizer__name", "name", "-number")
    )


# ---------------------------------------------------------------------------- entries
@dataclass(frozen=True)
class EntryFilters:
    policy: int | None = None
    status: str = ""
    kind: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.policy or self.status or self.kind or self.q)


def entries_for(user: Any, filters: EntryFilters | None = None) -> QuerySet[LedgerEntry]:
    """The entries of the policies of the user's offices, newest first, filtered."""
    filters = filters or EntryFilters()
    entries = LedgerEntry.objects.filter(policy__recognizer_id__in=office_ids(user))
    if filters.policy:
        entries = entries.filter(policy_id=filters.policy)
    if filters.status:
        entries = entries.filter(status=filters.status)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    for word in filters.q.split():
        entries = entries.filter(
            Q(educator__email__icontains=word)
            | Q(educator__first_name__icontains=word)
            | Q(educator__last_name__icontains=word)
            | Q(educator__display_name__icontains=word)
        )
    return entries.select_related("educator", "policy", "reverses").order_by("-posted_at", "-pk")


def entries_of_educator(user: Any) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(educator_id=user.pk)
        .select_related("educator", "policy__recognizer", "reverses")
        .order_by("-posted_at", "-pk")
    )


def reversal_text(entry: LedgerEntry) -> str:
    if entry.reverses_id is None:
        return ""
    return f"Reverses entry #{entry.reverses_id}: {entry.reason}"


def policy_label(policy: RecognitionPolicy) -> str:
    return f"{policy.name} (version {policy.number})"


@dataclass(frozen=True)
class EntryRow:
    """One entry as every reader sees it: the page, the API and the CSV."""

    entry: LedgerEntry
    educator_name: str
    educator_email: str
    figure: str
    policy: str
    status: str
    reversal: str

    @property
    def pending(self) -> bool:
        return self.entry.status == Status.PENDING


def entry_row(entry: LedgerEntry) -> EntryRow:
    return EntryRow(
        entry=entry,
        educator_name=entry.educator.full_name or entry.educator.email,
        educator_email=entry.educator.email,
        figure=arithmetic.figure(entry.kind, entry.quantity, entry.amount),
        policy=policy_label(entry.policy),
        status=entry.get_status_display(),
        reversal=reversal_text(entry),
    )


def entry_rows(entries: Iterable[LedgerEntry]) -> list[EntryRow]:
    return [entry_row(entry) for entry in entries]


# ---------------------------------------------------------------------------- approval
@dataclass(frozen=True)
class Approval:
    approved: int
    not_pending: int
    not_yours: int

    @property
    def message(self) -> str:
        parts = []
        if self.not_pending:
            were = "it was" if self.not_pending == 1 else "they were"
            parts.append(f"{self.not_pending} skipped because {were} no longer pending")
        if self.not_yours:
            parts.append(
                f"{self.not_yours} skipped because "
                f"{'it is' if self.not_yours == 1 else 'they are'} not your office's to approve"
            )
        head = f"Approved {self.approved} {'entry' if self.approved == 1 else 'entries'}"
        return head + ("; " + "; ".join(parts) if parts else "") + "."


def approve_selected(user: Any, ids: Sequence[int]) -> Approval:
    """Approve the user's office's pending entries among `ids`. An id of another office's
    entry, or of no entry, is skipped and nothing of it changes; an entry approved before (a
    second click) is skipped by the service."""
    wanted = set(ids)
    own = list(
        LedgerEntry.objects.filter(pk__in=wanted, policy__recognizer_id__in=office_ids(user))
    )
    approved, skipped = services.approve_entries(user, own)
    return Approval(approved, skipped, len(wanted) - len(own))


# ---------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class Budget:
    rule: RecognitionRule
    budget: Decimal
    used: Decimal
    waiting: int
    unfunded: int
    spent_on: date | None  # the day the first stipend went unfunded

    @property
    def left(self) -> Decimal:
        return max(self.budget - self.used, ZERO)

    @property
    def percent_used(self) -> int:
        if self.budget <= 0:
            return 100
        return min(100, int(self.used * 100 / self.budget))

    @property
    def spent(self) -> bool:
        """No room for one more stipend: the next one is recorded as not funded."""
        return self.left < (self.rule.amount or ZERO)

    @property
    def refilled(self) -> bool:
        """It ran out once, and reversals have since given back room for a stipend."""
        return self.unfunded > 0 and not self.spent


def budgets(user: Any, on: date | None = None) -> list[Budget]:
    """Each stipend rule with a budget of the office's policies in force on `on` (today)."""
    rules = [
        rule
        for policy in posting.policies_in_force(office_ids(user), on or timezone.localdate())
        for rule in policy.rules.all()
        if rule.kind == Kind.STIPEND and rule.budget is not None
    ]
    counts = {
        row["rule_id"]: row
        for row in LedgerEntry.objects.filter(rule__in=rules)
        .values("rule_id")
        .annotate(
            waiting=Count("pk", filter=Q(status=Status.PENDING)),
            unfunded=Count("pk", filter=Q(status=Status.UNFUNDED)),
            first_unfunded=Min("posted_at", filter=Q(status=Status.UNFUNDED)),
        )
    }
    result = []
    for rule in rules:
        row = counts.get(rule.pk, {})
        first: datetime | None = row.get("first_unfunded")
        result.append(
            Budget(
                rule=rule,
                budget=rule.budget or ZERO,
                used=posting.budget_used(rule),
                waiting=row.get("waiting", 0),
                unfunded=row.get("unfunded", 0),
                spent_on=timezone.localdate(first) if first else None,
            )
        )
    return result


# ---------------------------------------------------------------------------- exports
def exports_for(user: Any) -> QuerySet[LedgerExport]:
    return (
        LedgerExport.objects.filter(recognizer_id__in=office_ids(user))
        .select_related("recognizer", "created_by")
        .annotate(
            unpaid=Count(
                "entries",
                filter=Q(entries__status=Status.EXPORTED, entries__kind__in=MONEY_KINDS),
            )
        )
        .order_by("-created", "-pk")
    )


def export_for(user: Any, pk: int) -> LedgerExport | None:
    return exports_for(user).filter(pk=pk).first()


def approved_waiting(user: Any) -> dict[int, int]:
    """Approved entries not yet exported, by recognizer."""
    return dict(
        LedgerEntry.objects.filter(
            policy__recognizer_id__in=office_ids(user), status=Status.APPROVED
        )
        .values_list("policy__recognizer_id")
        .annotate(n=Count("pk"))
        .values_list("policy__recognizer_id", "n")
    )


CSV_HEADER = [
    "License number",
    "Educator",
    "Email",
    "Credential",
    "Kind",
    "CEUs or quantity",
    "Amount",
    "Figure",
    "Earned on",
    "Approved on",
    "Policy",
    "Entry id",
    "Reverses entry id",
    "Reason",
]


def license_numbers(recognizer: Organization, educator_ids: Iterable[int]) -> dict[int, str]:
    """Each educator's license number with the recognizer's state (the recognizer itself or
    an organization above it), the nearest first; educators without one are left out."""
    chain = [recognizer.pk, *ancestor_ids(recognizer)]
    nearness = {org_id: i for i, org_id in enumerate(chain)}
    found: dict[int, tuple[int, str]] = {}
    rows = License.objects.filter(educator_id__in=set(educator_ids), state_id__in=chain)
    for educator_id, state_id, number in rows.values_list("educator_id", "state_id", "number"):
        candidate = (nearness[state_id], number)
        if educator_id not in found or candidate < found[educator_id]:
            found[educator_id] = candidate
    return {educator_id: number for educator_id, (_, number) in found.items()}


def export_entries(export: LedgerExport) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(export=export)
        .select_related("educator", "policy", "reverses")
        .order_by("pk")
    )


def csv_rows(recognizer: Organization, entries: Sequence[LedgerEntry]) -> list[list[object]]:
    numbers = license_numbers(recognizer, {e.educator_id for e in entries})
    rows: list[list[object]] = []
    for row in entry_rows(entries):
        entry = row.entry
        rows.append(
            [
                numbers.get(entry.educator_id, ""),
                row.educator_name,
                row.educator_email,
                entry.title,
                entry.get_kind_display(),
                "" if entry.kind in MONEY_KINDS else entry.quantity,
                entry.amount if entry.kind in MONEY_KINDS else "",
                row.figure,
                entry.earned_on.isoformat(),
                timezone.localdate(entry.approved_at).isoformat() if entry.approved_at else "",
                row.policy,
                entry.pk,
                entry.reverses_id or "",
                entry.reason,
            ]
        )
    return rows


def export_csv_rows(export: LedgerExport) -> list[list[object]]:
    return csv_rows(export.recognizer, export_entries(export))


def export_filename(export: LedgerExport) -> str:
    return f"microcred-ledger-{export.recognizer.slug}-export-{export.pk}.csv"


# ---------------------------------------------------------------------------- role holders
def educators_of(user: Any) -> QuerySet[Any]:
    """Ids of the people with an active membership in the user's offices or below them, as
    a subquery."""
    subtree = organization_subtree_ids(set(office_ids(user)))
    return Membership.objects.filter(organization_id__in=subtree, active=True).values("user_id")


def _people(ids: Iterable[int]) -> list[Any]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(pk__in=set(ids))
        .order_by("last_name", "first_name", "email")
    )


@dataclass(frozen=True)
class RoleHolders:
    rule: RecognitionRule
    needs: str
    holders: list[Any]


def _needs(rule: RecognitionRule) -> str:
    stacks = [s.title for s in rule.stacks.all()]
    mcs = [m.pk for m in rule.micro_credentials.all()]
    parts = []
    if stacks:
        parts.append("the stack" + ("s " if len(stacks) > 1 else " ") + ", ".join(stacks))
    if mcs:
        needed = len(mcs) if rule.mcs_needed is None else rule.mcs_needed
        titles = mc_titles(mcs)
        listed = ", ".join(titles.get(pk, "?") for pk in mcs)
        parts.append(f"{needed} of {len(mcs)} micro-credentials ({listed})")
    return "Holds " + " and ".join(parts) if parts else "Nothing listed"


def role_rules(user: Any, on: date | None = None) -> list[RecognitionRule]:
    return [
        rule
        for policy in posting.policies_in_force(office_ids(user), on or timezone.localdate())
        for rule in policy.rules.all()
        if rule.kind == Kind.ROLE
    ]


def role_holders(user: Any) -> list[RoleHolders]:
    """For each role rule of the office's policies in force, the educators of its
    organizations eligible for it today."""
    rules = role_rules(user)
    if not rules:
        return []
    held = held_by(educators_of(user))
    eligible = {
        rule.pk: {pk for pk, h in held.items() if posting.is_eligible(rule, h.mcs, h.stacks)}
        for rule in rules
    }
    people = _people(set().union(*eligible.values()))
    return [
        RoleHolders(
            rule=rule,
            needs=_needs(rule),
            holders=[person for person in people if person.pk in eligible[rule.pk]],
        )
        for rule in rules
    ]


def holders_of(user: Any, *, micro_credential: int | None, stack: int | None) -> list[Any]:
    """The educators of the office's organizations who hold one MC or one stack."""
    held = held_by(educators_of(user))
    return _people(
        pk
        for pk, h in held.items()
        if (micro_credential is not None and micro_credential in h.mcs)
        or (stack is not None and stack in h.stacks)
    )


EARNED_STATUSES = (
    MicroCredentialVersion.Status.PUBLISHED,
    MicroCredentialVersion.Status.SUPERSEDED,
    MicroCredentialVersion.Status.RETIRED,
)


def mc_titles(mc_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Each MC's title as its newest published (or once published) version gives it."""
    versions = MicroCredentialVersion.objects.filter(status__in=EARNED_STATUSES)
    if mc_ids is not None:
        versions = versions.filter(micro_credential_id__in=list(mc_ids))
    titles: dict[int, str] = {}
    for mc_id, title in versions.order_by("micro_credential_id", "number").values_list(
        "micro_credential_id", "title"
    ):
        titles[mc_id] = title
    return titles


def stack_choices() -> list[tuple[int, str]]:
    return list(
        Stack.objects.exclude(status=Stack.Status.DRAFT)
        .order_by("title")
        .values_list("pk", "title")
    )


def holder_csv_rows(label: str, people: Iterable[Any]) -> list[list[object]]:
    return [[label, p.full_name or p.email, p.email] for p in people]


HOLDER_CSV_HEADER = ["Role or skill", "Educator", "Email"]
