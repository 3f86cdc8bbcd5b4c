"""License renewal: each educator's progress in their current cycle, the licenses an office
keeps (imported by CSV, dry run first), and the reminders sent as a cycle's end nears.

Progress counts the educator's CEU and renewal-count ledger entries for credentials earned
within the cycle, reversals included and unfunded entries left out. When two policies (the
state's and a district's) grant CEUs for the same credential, the larger grant counts, once:
the licensing office renews a license on what one credential is worth, not on how many
offices recognised it.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs import imports
from microcred.orgs.models import Membership, Organization, User
from microcred.orgs.selectors import ancestor_ids, organization_subtree_ids
from microcred.orgs.services import record_audit

from .arithmetic import _plain
from .models import LedgerEntry, License, RecognitionRule, RenewalCycle
from .rules import recognizer_ids_of

Kind = RecognitionRule.Kind
ZERO = Decimal("0")
# Months before a cycle's end at which its educator is reminded, widest first.
REMINDER_MONTHS = (12, 6, 3, 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (Aug 31 + 6 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end`, never below zero."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


# ---------------------------------------------------------------------------- progress
@dataclass(frozen=True)
class Banked:
    """What counts toward renewal from a set of entries: CEUs and MCs, and how much of each
    is still waiting for an office's approval."""

    ceus: Decimal = ZERO
    ceus_pending: Decimal = ZERO
    mcs: int = 0
    mcs_pending: int = 0


@dataclass(frozen=True)
class RenewalProgress:
    cycle: RenewalCycle
    banked: Banked
    today: date

    @property
    def license(self) -> License:
        return self.cycle.license

    @property
    def ceus_required(self) -> Decimal:
        return self.cycle.ceus_required

    @property
    def mcs_required(self) -> int | None:
        return self.cycle.mcs_required

    @property
    def ceus(self) -> Decimal:
        return self.banked.ceus

    @property
    def mcs(self) -> int:
        return self.banked.mcs

    @property
    def ended(self) -> bool:
        return self.cycle.ends_on < self.today

    @property
    def months_left(self) -> int:
        return months_between(self.today, self.cycle.ends_on)

    @property
    def renewed_by_ceus(self) -> bool:
        return self.ceus >= self.ceus_required

    @property
    def renewed_by_mcs(self) -> bool:
        return bool(self.mcs_required) and self.mcs >= (self.mcs_required or 0)

    @property
    def renewed(self) -> bool:
        """Enough banked by either path (entries waiting for approval included: the educator
        has done their part)."""
        return self.renewed_by_ceus or self.renewed_by_mcs

    @property
    def ceus_shown(self) -> Decimal:
        """The figure a progress bar can show: never past its maximum."""
        return min(self.ceus, self.ceus_required)

    @property
    def mcs_shown(self) -> int:
        return min(self.mcs, self.mcs_required or 0)

    @property
    def time_left(self) -> str:
        if self.ended:
            return f"the cycle ended on {self.cycle.ends_on:%B %-d, %Y}"
        months = self.months_left
        if months == 0:
            return "less than a month left"
        return f"{months} month{'s' if months != 1 else ''} left"

    @property
    def sentence(self) -> str:
        """ "5.2 of 8.0 CEUs, or 3 of 4 MCs; 14 months left"."""
        text = f"{_one_place(self.ceus)} of {_one_place(self.ceus_required)} CEUs"
        if self.mcs_required:
            text += f", or {self.mcs} of {self.mcs_required} MCs"
        return f"{text}; {self.time_left}"

    @property
    def pending_sentence(self) -> str:
        """What still waits for approval, in words ("" when nothing does)."""
        parts = []
        if self.banked.ceus_pending:
            parts.append(f"{_plain(self.banked.ceus_pending)} CEUs")
        if self.mcs_required and self.banked.mcs_pending:
            count = self.banked.mcs_pending
            parts.append(f"{count} micro-credential{'s' if count != 1 else ''}")
        if not parts:
            return ""
        return f"Of these, {' and '.join(parts)} still wait for approval by your district or state."

    @property
    def status(self) -> str:
        if self.renewed:
            return "Enough for renewal"
        if self.ended:
            return "Cycle ended without enough"
        return "In progress"


def _one_place(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):f}"


def _entry_groups(entries: QuerySet[LedgerEntry]) -> list[dict[str, Any]]:
    """One aggregate query: per educator, credential, policy and kind, the net quantity and
    what of it waits for approval. A reversal shares its entry's credential, policy and
    earned_on, so it lands in the same group and nets it out."""
    return list(
        entries.filter(kind__in=[Kind.CEU, Kind.RENEWAL_COUNT])
        .exclude(status=LedgerEntry.Status.UNFUNDED)
        .order_by()
        .values("educator_id", "kind", "credential_id", "external_id", "policy_id", "earned_on")
        .annotate(
            net=Sum("quantity"),
            pending=Sum(
                "quantity",
                filter=Q(status=LedgerEntry.Status.PENDING, reverses__isnull=True),
            ),
        )
    )


def _tally(groups: Iterable[dict[str, Any]]) -> Banked:
    """The larger grant of each credential and kind, once; reversed grants net to nothing."""
    best: dict[tuple[str, int | None, int | None], tuple[Decimal, Decimal]] = {}
    for group in groups:
        net = group["net"] or ZERO
        # What waits is part of what is held: nothing waits once a reversal undid it.
        pending = max(min(group["pending"] or ZERO, net), ZERO)
        key = (group["kind"], group["credential_id"], group["external_id"])
        if key not in best or net > best[key][0]:
            best[key] = (net, pending)
    totals: dict[str, list[Decimal]] = {Kind.CEU: [ZERO, ZERO], Kind.RENEWAL_COUNT: [ZERO, ZERO]}
    for (kind, _, _), (net, pending) in best.items():
        totals[kind][0] += max(net, ZERO)
        totals[kind][1] += pending
    ceus, ceus_pending = totals[Kind.CEU]
    mcs, mcs_pending = totals[Kind.RENEWAL_COUNT]
    return Banked(ceus, ceus_pending, int(mcs), int(mcs_pending))


def pick_cycle(cycles: Iterable[RenewalCycle], today: date) -> RenewalCycle | None:
    """The cycle whose dates contain today, else the one ending last."""
    cycles = list(cycles)
    current = [c for c in cycles if c.starts_on <= today <= c.ends_on]
    pool = current or cycles
    return max(pool, key=lambda c: (c.ends_on, c.pk), default=None)


def current_cycle(educator: Any, today: date | None = None) -> RenewalCycle | None:
    today = today or timezone.localdate()
    cycles = RenewalCycle.objects.filter(license__educator_id=educator.pk).select_related(
        "license__state"
    )
    return pick_cycle(cycles, today)


def progress_in(cycle: RenewalCycle, today: date | None = None) -> RenewalProgress:
    groups = _entry_groups(
        LedgerEntry.objects.filter(
            educator_id=cycle.license.educator_id,
            earned_on__range=(cycle.starts_on, cycle.ends_on),
        )
    )
    return RenewalProgress(cycle, _tally(groups), today or timezone.localdate())


def renewal_progress(educator: Any, today: date | None = None) -> RenewalProgress | None:
    """The educator's progress in their current cycle (None without a license): one query
    for the cycle, one aggregate for the entries."""
    if not getattr(educator, "is_authenticated", False):
        return None
    today = today or timezone.localdate()
    cycle = current_cycle(educator, today)
    return progress_in(cycle, today) if cycle is not None else None


def progress_of_cycles(
    cycles: list[RenewalCycle], today: date | None = None
) -> dict[int, RenewalProgress]:
    """Progress in many cycles (an office's list) with one aggregate query: cycle pk ->
    progress."""
    today = today or timezone.localdate()
    if not cycles:
        return {}
    educators = {c.license.educator_id for c in cycles}
    groups = _entry_groups(
        LedgerEntry.objects.filter(
            educator_id__in=educators,
            earned_on__range=(min(c.starts_on for c in cycles), max(c.ends_on for c in cycles)),
        )
    )
    by_educator: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for group in groups:
        by_educator[group["educator_id"]].append(group)
    return {
        cycle.pk: RenewalProgress(
            cycle,
            _tally(
                g
                for g in by_educator[cycle.license.educator_id]
                if cycle.starts_on <= g["earned_on"] <= cycle.ends_on
            ),
            today,
        )
        for cycle in cycles
    }


def credential_contribution(credential: Any) -> Banked:
    """What one credential adds toward renewal (the larger grant where two policies count
    it)."""
    return _tally(_entry_groups(LedgerEntry.objects.filter(credential_id=credential.pk)))


# ---------------------------------------------------------------------------- offices
def license_offices(user: Any) -> list[Organization]:
    """The state agencies and districts whose licenses the user keeps as a recognizer admin."""
    ids = recognizer_ids_of(user)
    return list(
        Organization.objects.filter(
            pk__in=ids, kind__in=[Organization.Kind.STATE_AGENCY, Organization.Kind.LEA]
        ).order_by("name")
    )


def state_of(office: Organization) -> Organization | None:
    """The state agency whose licenses an office keeps: itself, or the one above it."""
    if office.kind == Organization.Kind.STATE_AGENCY:
        return office
    return Organization.objects.filter(
        pk__in=ancestor_ids(office), kind=Organization.Kind.STATE_AGENCY
    ).first()


def _educators_of(office: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(
        active=True, organization_id__in=organization_subtree_ids({office.pk})
    )


def licenses_of_office(office: Organization) -> QuerySet[License]:
    """A state's licenses; for a district, the licenses of the people who work in it."""
    licenses = License.objects.select_related("educator", "state")
    if office.kind == Organization.Kind.STATE_AGENCY:
        return licenses.filter(state=office)
    return licenses.filter(educator_id__in=_educators_of(office).values("user_id"))


@dataclass(frozen=True)
class LicenseRow:
    license: License
    progress: RenewalProgress | None


def license_rows(
    office: Organization, *, ending_soon: bool = False, today: date | None = None
) -> list[LicenseRow]:
    """The office's licenses with the progress of each one's current cycle; `ending_soon`
    keeps those whose cycle ends within 12 months and is not yet renewed. A few queries,
    however many licenses."""
    today = today or timezone.localdate()
    of_office = licenses_of_office(office)
    licenses = list(of_office.order_by("educator__last_name", "number"))
    by_license: dict[int, list[RenewalCycle]] = defaultdict(list)
    for cycle in RenewalCycle.objects.filter(license__in=of_office.values("pk")):
        by_license[cycle.license_id].append(cycle)
    current: dict[int, RenewalCycle] = {}
    for lic in licenses:
        cycle = pick_cycle(by_license[lic.pk], today)
        if cycle is not None:
            cycle.license = lic  # already loaded: no query per row
            current[lic.pk] = cycle
    progress = progress_of_cycles(list(current.values()), today)
    rows = [
        LicenseRow(lic, progress[current[lic.pk].pk] if lic.pk in current else None)
        for lic in licenses
    ]
    if ending_soon:
        horizon = add_months(today, 12)
        rows = [
            row
            for row in rows
            if row.progress is not None
            and today <= row.progress.cycle.ends_on <= horizon
            and not row.progress.renewed
        ]
    return rows


# ---------------------------------------------------------------------------- import
COLUMNS = imports.Columns(
    ("email", "license_number", "area", "cycle_start", "cycle_end"),
    ("ceus_required", "mcs_required"),
)
REQUIRED_COLUMNS, OPTIONAL_COLUMNS = COLUMNS.required, COLUMNS.optional
COLUMN_ALIASES = {
    "license": "license_number",
    "license_no": "license_number",
    "start": "cycle_start",
    "end": "cycle_end",
}
DEFAULT_CEUS = Decimal("8.0")
ACTION_LABELS = {
    "create_license": "Add the license and its cycle",
    "add_cycle": "Add a renewal cycle to the license",
    "update": "Update",
    **imports.SHARED_ACTION_LABELS,
}
SUMMARY_LABELS = {
    "create_license": ("new license", "new licenses"),
    "add_cycle": ("new renewal cycle", "new renewal cycles"),
    "update": ("license or cycle updated", "licenses or cycles updated"),
    "unchanged": ("row already in place", "rows already in place"),
    "problem": ("row with problems", "rows with problems"),
}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


@dataclass
class LicenseRowPlan(imports.RowPlan):
    ACTION_LABELS: ClassVar[dict[str, str]] = ACTION_LABELS

    educator: User | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    ceus_required: Decimal = DEFAULT_CEUS
    mcs_required: int | None = None
    # The first row of its license in the file: the one whose area the license takes.
    first: bool = True


@dataclass
class LicensePlan(imports.PlanReport[LicenseRowPlan]):
    SUMMARY_LABELS: ClassVar[dict[str, tuple[str, str]]] = SUMMARY_LABELS
    NOT_CHANGES: ClassVar[frozenset[str]] = frozenset({"unchanged", "problem"})

    office: Organization
    rows: list[LicenseRowPlan] = field(default_factory=list)
    file_problems: list[imports.Problem] = field(default_factory=list)

    def tallies(self) -> Counter[str]:
        return Counter(row.action for row in self.rows)


def _parse_date(row: LicenseRowPlan, column: str) -> date | None:
    raw = row.values.get(column, "")
    if not raw:
        row.add(column, "The date is empty.")
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    row.add(
        column,
        f"'{raw}' is not a date. Write dates as year-month-day (2025-07-01) or "
        "month/day/year (07/01/2025).",
    )
    return None


def _parse_numbers(row: LicenseRowPlan) -> None:
    raw = row.values.get("ceus_required", "")
    if raw:
        try:
            ceus = Decimal(raw)
        except InvalidOperation:
            ceus = None
        if ceus is None or not ceus.is_finite() or not ZERO < ceus < Decimal("1000"):
            row.add("ceus_required", f"'{raw}' is not a number of CEUs (such as 8 or 8.0).")
        elif ceus != ceus.quantize(Decimal("0.1")):
            row.add("ceus_required", f"'{raw}': give CEUs with at most one decimal place.")
        else:
            row.ceus_required = ceus.quantize(Decimal("0.1"))
    raw = row.values.get("mcs_required", "")
    if raw:
        if not re.fullmatch(r"\d{1,4}", raw) or int(raw) == 0:
            row.add(
                "mcs_required",
                f"'{raw}' is not a number of micro-credentials (a whole number such as 4), "
                "or leave it empty.",
            )
        else:
            row.mcs_required = int(raw)


def _check_row(row: LicenseRowPlan, educators: dict[str, User], members: set[int]) -> None:
    email = row.values.get("email", "").lower()
    row.values["email"] = email
    if not email:
        row.add("email", "The email address is empty.")
    elif email not in educators:
        row.add(
            "email",
            f"No one in microcred has the email {email}. Check the spelling, or add the "
            "person first (an import of people), then import their license again.",
        )
    elif educators[email].pk not in members:
        row.add("email", f"{email} does not work in a school or district you keep licenses for.")
    else:
        row.educator = educators[email]
    number = row.values.get("license_number", "")
    if not number:
        row.add("license_number", "The license number is empty.")
    elif len(number) > 40:
        row.add("license_number", "Too long: at most 40 characters.")
    if len(row.values.get("area", "")) > 200:
        row.add("area", "Too long: at most 200 characters.")
    row.starts_on = _parse_date(row, "cycle_start")
    row.ends_on = _parse_date(row, "cycle_end")
    if row.starts_on and row.ends_on and row.ends_on <= row.starts_on:
        row.add(
            "cycle_end",
            f"The cycle ends ({row.ends_on:%Y-%m-%d}) before it starts "
            f"({row.starts_on:%Y-%m-%d}). Check the order of the two dates.",
        )
    _parse_numbers(row)


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def build_license_plan(office: Organization, text: str) -> LicensePlan:
    """The dry run: what importing this text would do for the office, every problem named."""
    plan = LicensePlan(office)
    raw_rows, problems = imports.read_table(text, COLUMNS, what="licenses", aliases=COLUMN_ALIASES)
    state = state_of(office)
    if state is None:
        problems = [imports.Problem(None, "", f"{office.name} is under no state agency.")]
    if problems:
        plan.file_problems = problems
        return plan
    plan.rows = [LicenseRowPlan(raw.number, dict(raw.values)) for raw in raw_rows]
    emails = {row.values.get("email", "").lower() for row in plan.rows}
    educators = {
        u.email_lower: u
        for u in User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    }
    members = set(
        Membership.objects.filter(
            active=True,
            user__in=list(educators.values()),
            organization_id__in=organization_subtree_ids({office.pk}),
        ).values_list("user_id", flat=True)
    )
    for row in plan.rows:
        _check_row(row, educators, members)
    numbers = {row.values.get("license_number", "") for row in plan.rows} - {""}
    existing = {
        lic.number: lic
        for lic in License.objects.filter(state=state, number__in=numbers).select_related(
            "educator"
        )
    }
    cycles: dict[int, list[RenewalCycle]] = defaultdict(list)
    for cycle in RenewalCycle.objects.filter(license__in=list(existing.values())):
        cycles[cycle.license_id].append(cycle)
    _plan_rows(plan, existing, cycles)
    return plan


def _plan_rows(
    plan: LicensePlan, existing: dict[str, License], cycles: dict[int, list[RenewalCycle]]
) -> None:
    holder: dict[str, tuple[int, int]] = {}  # number -> (first row, educator) within the file
    spans: dict[str, list[tuple[int, date, date]]] = defaultdict(list)
    for row in plan.rows:
        if row.problems:
            continue
        assert row.educator and row.starts_on and row.ends_on
        number = row.values["license_number"]
        lic = existing.get(number)
        if lic is not None and lic.educator_id != row.educator.pk:
            row.add(
                "license_number",
                f"License {number} is held by another person in microcred. Check the number "
                "or the email.",
            )
            continue
        first = holder.setdefault(number, (row.row, row.educator.pk))
        if first[1] != row.educator.pk:
            row.add("license_number", f"Row {first[0]} gives license {number} to another person.")
            continue
        span = (row.starts_on, row.ends_on)
        earlier = next((r for r, *s in spans[number] if _overlap(span, tuple(s))), None)
        if earlier is not None:
            row.add(
                "cycle_start", f"Row {earlier} gives this license a cycle overlapping this one."
            )
            continue
        spans[number].append((row.row, *span))
        own = cycles.get(lic.pk, []) if lic else []
        same = next((c for c in own if c.starts_on == row.starts_on), None)
        clash = next(
            (c for c in own if c is not same and _overlap(span, (c.starts_on, c.ends_on))), None
        )
        if clash is not None:
            row.add(
                "cycle_start",
                f"License {number} already has the cycle {clash.starts_on:%Y-%m-%d} to "
                f"{clash.ends_on:%Y-%m-%d}, which overlaps this one.",
            )
            continue
        row.first = first[0] == row.row
        _decide(row, lic, same)


def _decide(row: LicenseRowPlan, lic: License | None, cycle: RenewalCycle | None) -> None:
    if lic is None:
        row.action = "create_license" if row.first else "add_cycle"
        return
    changes = []
    if row.first and row.values.get("area", "") != lic.area:
        changes.append(f"area '{lic.area}' to '{row.values.get('area', '')}'")
    if cycle is None:
        row.action = "add_cycle"
        row.detail = "; ".join(changes)
        return
    wanted = {
        "ends_on": row.ends_on,
        "ceus_required": row.ceus_required,
        "mcs_required": row.mcs_required,
    }
    changes += [
        f"{name.replace('_', ' ')} {getattr(cycle, name)} to {value}"
        for name, value in wanted.items()
        if getattr(cycle, name) != value
    ]
    row.action = "update" if changes else "unchanged"
    row.detail = "Changes: " + ", ".join(changes) if changes else ""


class LicenseImportRejected(Exception):
    def __init__(self, plan: LicensePlan) -> None:
        super().__init__("The license import has problems.")
        self.plan = plan


def _require_office(actor: Any, office: Organization) -> None:
    if not actor.has_perm("recognition.import_licenses", office):
        raise PermissionDenied("Only the licensure or HR office imports licenses.")


def preview_license_import(actor: Any, office: Organization, text: str) -> LicensePlan:
    _require_office(actor, office)
    return build_license_plan(office, text)


def run_license_import(
    actor: Any, office: Organization, text: str, *, filename: str = ""
) -> LicensePlan:
    """Check the file again and apply it in one transaction, everything or nothing. Rows
    already in place are left alone, so the same file twice changes nothing the second time."""
    _require_office(actor, office)
    try:
        with transaction.atomic():
            plan = build_license_plan(office, text)
            if not plan.is_valid:
                raise LicenseImportRejected(plan)
            if plan.has_changes:
                _apply(actor, plan, filename)
    except IntegrityError as exc:
        problem = imports.Problem(
            None,
            "",
            "Someone changed these licenses while you were importing. Nothing was saved: "
            "upload the file again to check it.",
        )
        raise LicenseImportRejected(LicensePlan(office, file_problems=[problem])) from exc
    return plan


def _apply(actor: Any, plan: LicensePlan, filename: str) -> None:
    state = state_of(plan.office)
    for row in plan.rows_to_change:
        assert row.educator and row.starts_on and row.ends_on
        lic, created = License.objects.get_or_create(
            state=state,
            number=row.values["license_number"],
            defaults={"educator": row.educator, "area": row.values.get("area", "")},
        )
        if not created and row.first and lic.area != row.values.get("area", ""):
            lic.area = row.values.get("area", "")
            lic.save(update_fields=["area"])
        cycle, created = RenewalCycle.objects.get_or_create(
            license=lic,
            starts_on=row.starts_on,
            defaults={
                "ends_on": row.ends_on,
                "ceus_required": row.ceus_required,
                "mcs_required": row.mcs_required,
            },
        )
        if not created:
            if cycle.ends_on != row.ends_on:
                # A new end date: its reminders are due again, counted from it.
                cycle.reminders_sent = []
            cycle.ends_on, cycle.ceus_required = row.ends_on, row.ceus_required
            cycle.mcs_required = row.mcs_required
            cycle.save()
    record_audit(
        actor,
        "recognition.licenses_imported",
        plan.office,
        organization=plan.office,
        data={
            "file": filename,
            "rows": len(plan.rows),
            "changed": len(plan.rows_to_change),
        },
    )


# ---------------------------------------------------------------------------- reminders
def threshold_due(progress: RenewalProgress) -> int | None:
    """The tightest reminder threshold (in months) the cycle's end is within and that was not
    sent yet; None when none is due."""
    if progress.ended or progress.renewed:
        return None
    crossed = [
        months
        for months in REMINDER_MONTHS
        if progress.cycle.ends_on <= add_months(progress.today, months)
    ]
    if not crossed:
        return None
    tightest = min(crossed)
    return None if tightest in (progress.cycle.reminders_sent or []) else tightest


def send_reminders(today: date | None = None) -> int:
    """Remind each educator whose cycle is not yet renewed and ends within 12, 6, 3 or 1
    months: once per threshold (an imported cycle already 2 months from its end gets the
    3-month reminder only, and the wider ones count as sent). The number sent."""
    today = today or timezone.localdate()
    horizon = add_months(today, max(REMINDER_MONTHS))
    cycles = list(
        RenewalCycle.objects.filter(ends_on__gte=today, ends_on__lte=horizon).select_related(
            "license__educator"
        )
    )
    sent = 0
    for chunk_start in range(0, len(cycles), 500):
        chunk = cycles[chunk_start : chunk_start + 500]
        for cycle_pk, progress in progress_of_cycles(chunk, today).items():
            threshold = threshold_due(progress)
            if threshold is not None and _remind(cycle_pk, progress, threshold):
                sent += 1
    return sent


def _remind(cycle_pk: int, progress: RenewalProgress, threshold: int) -> bool:
    with transaction.atomic():
        cycle = RenewalCycle.objects.select_for_update().get(pk=cycle_pk)
        already = set(cycle.reminders_sent or [])
        if threshold in already:
            return False  # another worker got here first
        cycle.reminders_sent = sorted(
            already | {m for m in REMINDER_MONTHS if m >= threshold}, reverse=True
        )
        cycle.save(update_fields=["reminders_sent"])
        lic = progress.license
        notification = notify(
            lic.educator,
            NotificationKind.RENEWAL,
            title=f"License {lic.number}: {progress.time_left} to renew",
            body=(
                f"Your license renewal cycle ends on {cycle.ends_on:%B %-d, %Y}. So far: "
                f"{progress.sentence}. Earn approved micro-credentials to count toward it."
            ),
            url=reverse("recognition:my_record"),
            dedupe_key=f"renewal:{cycle.pk}:{cycle.ends_on:%Y-%m-%d}:{threshold}",
        )
    return notification is not None
