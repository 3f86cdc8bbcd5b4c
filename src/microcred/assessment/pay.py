"""Reads of assessor pay: the monthly payable report per assessor and per funding organization,
the minutes a score takes per micro-credential, and an assessor's own pay.

Every figure comes from what each `Score` froze when it was submitted (minutes, rate, amount,
funder), so a later change of rate or funder never rewrites a past month. A score belongs to the
month, in the site's time zone, in which it was submitted. The report costs a fixed number of
queries whatever the number of assessors: the sums are made by the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone

from microcred.catalog.models import MicroCredentialVersion
from microcred.orgs.models import Organization, User
from microcred.web.spreadsheets import csv_text

from .models import AssessorProfile, Assignment, Score

CENT = Decimal("0.01")
Purpose = Assignment.Purpose
_MC = "assignment__submission__attempt__version__micro_credential_id"


# ---------------------------------------------------------------------------- months
@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def value(self) -> str:
        """As typed in the page's field and the URL: "2026-11"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return self.start.strftime("%B %Y")

    @property
    def start(self) -> datetime:
        """Midnight of the 1st in the site's time zone, whatever the server's clock runs on."""
        return datetime(self.year, self.month, 1, tzinfo=timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = timezone.localtime(moment, timezone.get_default_timezone())
        return cls(local.year, local.month)


# Years outside this range are typing slips, and far ones would overflow the date arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2999
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def last_full_month(now: datetime | None = None) -> Month:
    return Month.of(now or timezone.now()).previous()


def parse_month(text: str | None, now: datetime | None = None) -> tuple[Month, str]:
    """The month asked for, or the last full month and a message saying why when the text is
    not a month (no text at all is no mistake)."""
    default = last_full_month(now)
    if not text or not text.strip():
        return default, ""
    match = _MONTH.match(text)
    if match:
        year, month = int(match[1]), int(match[2])
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            return Month(year, month), ""
    return default, (
        f"“{text.strip()[:20]}” is not a month we can show. Enter the year and month as "
        f"digits, like {default.value}. Showing {default.label} instead."
    )


# ---------------------------------------------------------------------------- figures
def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)


class _Counted:
    """Reads and hours from the counts a row or total carries."""

    live: int
    calibration: int
    drift_check: int
    minutes: int

    @property
    def reads(self) -> int:
        return self.live + self.calibration + self.drift_check

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


@dataclass(frozen=True)
class AssessorPay(_Counted):
    assessor_id: int
    name: str
    email: str
    live: int
    calibration: int
    drift_check: int
    minutes: int
    amount: Decimal


@dataclass(frozen=True)
class FunderPay:
    organization_id: int | None
    name: str
    reads: int
    minutes: int
    amount: Decimal

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


@dataclass(frozen=True)
class MinutesPerScore:
    micro_credential_id: int
    title: str
    reads: int
    mean: Decimal
    median: Decimal


@dataclass(frozen=True)
class Totals(_Counted):
    live: int = 0
    calibration: int = 0
    drift_check: int = 0
    minutes: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class PayReport:
    month: Month
    assessors: list[AssessorPay]
    funders: list[FunderPay]
    minutes_per_mc: list[MinutesPerScore] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return _total(self.assessors)


def _total(rows: Iterable[AssessorPay]) -> Totals:
    totals = Totals()
    for row in rows:
        totals = Totals(
            live=totals.live + row.live,
            calibration=totals.calibration + row.calibration,
            drift_check=totals.drift_check + row.drift_check,
            minutes=totals.minutes + row.minutes,
            amount=totals.amount + row.amount,
        )
    return totals


def _scores_in(month: Month) -> QuerySet[Score]:
    return Score.objects.filter(submitted_at__gte=month.start, submitted_at__lt=month.end)


def _sums() -> dict[str, Any]:
    """The per-group sums every table shows: reads by purpose, minutes and amount."""
    return {
        "live": Count("id", filter=Q(assignment__purpose=Purpose.LIVE)),
        "calibration": Count("id", filter=Q(assignment__purpose=Purpose.CALIBRATION)),
        "drift_check": Count("id", filter=Q(assignment__purpose=Purpose.DRIFT_CHECK)),
        "minutes": Sum("minutes_spent"),
        "amount": Sum("pay_amount"),
    }


def _money(value: Any) -> Decimal:
    # SQLite sums decimals as floats; the cents are rounded back here, never carried as floats.
    return Decimal(str(value or 0)).quantize(CENT)


def _name(row: dict[str, Any]) -> str:
    # The model's own naming rule, from the grouped columns rather than a query per person.
    fields = ("email", "display_name", "first_name", "last_name")
    return User(**{f: row[f] for f in fields}).name


def _assessor_rows(scores: QuerySet[Score]) -> list[AssessorPay]:
    user = "assignment__assessor__user__"
    rows = (
        scores.values(
            "assignment__assessor_id",
            email=F(f"{user}email"),
            display_name=F(f"{user}display_name"),
            first_name=F(f"{user}first_name"),
            last_name=F(f"{user}last_name"),
        )
        .annotate(**_sums())
        .order_by()
    )
    result = [
        AssessorPay(
            assessor_id=row["assignment__assessor_id"],
            name=_name(row),
            email=row["email"],
            live=row["live"],
            calibration=row["calibration"],
            drift_check=row["drift_check"],
            minutes=row["minutes"] or 0,
            amount=_money(row["amount"]),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (r.name.casefold(), r.email))


def default_funder() -> Organization | None:
    """Who pays for reads of MCs whose policy names no funder: the state agency at the root of
    the tree (the program's own budget)."""
    return (
        Organization.objects.filter(kind=Organization.Kind.STATE_AGENCY, parent__isnull=True)
        .order_by("-active", "pk")
        .first()
    )


DEFAULT_FUNDER_NAME = "State program (no funder named)"


def _funder_rows(scores: QuerySet[Score]) -> list[FunderPay]:
    state = default_funder()
    rows = (
        scores.values("funding_organization_id", "funding_organization__name")
        .annotate(reads=Count("id"), minutes=Sum("minutes_spent"), amount=Sum("pay_amount"))
        .order_by()
    )
    merged: dict[int | None, FunderPay] = {}
    for row in rows:
        # Reads with no funder and reads funded by the state agency itself are one budget line.
        key = row["funding_organization_id"] or (state.pk if state else None)
        name = row["funding_organization__name"] or (state.name if state else DEFAULT_FUNDER_NAME)
        seen = merged.get(key, FunderPay(key, name, 0, 0, Decimal("0.00")))
        merged[key] = replace(
            seen,
            reads=seen.reads + row["reads"],
            minutes=seen.minutes + (row["minutes"] or 0),
            amount=seen.amount + _money(row["amount"]),
        )
    return sorted(merged.values(), key=lambda r: r.name.casefold())


def _titles(micro_credential_ids: Sequence[int]) -> dict[int, str]:
    """Each MC by the title of its newest version."""
    titles: dict[int, str] = {}
    versions = (
        MicroCredentialVersion.objects.filter(micro_credential_id__in=micro_credential_ids)
        .order_by("micro_credential_id", "-number")
        .values_list("micro_credential_id", "title")
    )
    for mc_id, title in versions:
        titles.setdefault(mc_id, title)
    return titles


def _minutes_rows(scores: QuerySet[Score]) -> list[MinutesPerScore]:
    counts = {
        row[_MC]: (row["reads"], row["minutes"])
        for row in scores.values(_MC)
        .annotate(reads=Count("id"), minutes=Sum("minutes_spent"))
        .order_by()
    }
    if not counts:
        return []
    # The median from the one or two middle scores of each MC, ranked by the database: two rows
    # per MC travel, never every score.
    ranked = scores.annotate(
        mc=F(_MC),
        rank=Window(RowNumber(), partition_by=[F(_MC)], order_by=[F("minutes_spent").asc()]),
        n=Window(Count("id"), partition_by=[F(_MC)]),
    ).filter(Q(rank=(F("n") + 1) / 2) | Q(rank=(F("n") + 2) / 2))
    middles: dict[int, list[int]] = {}
    for mc_id, minutes in ranked.values_list("mc", "minutes_spent"):
        middles.setdefault(mc_id, []).append(minutes)
    titles = _titles(list(counts))
    rows = [
        MinutesPerScore(
            micro_credential_id=mc_id,
            title=titles.get(mc_id, f"Micro-credential {mc_id}"),
            reads=reads,
            mean=(Decimal(minutes) / reads).quantize(Decimal("0.1")),
            median=(Decimal(sum(middles[mc_id])) / len(middles[mc_id])).quantize(Decimal("0.1")),
        )
        for mc_id, (reads, minutes) in counts.items()
    ]
    return sorted(rows, key=lambda r: r.title.casefold())


def pay_report(month: Month) -> PayReport:
    """The payable report of one month for scoring leads and the state program office."""
    scores = _scores_in(month)
    return PayReport(
        month=month,
        assessors=_assessor_rows(scores),
        funders=_funder_rows(scores),
        minutes_per_mc=_minutes_rows(scores),
    )


# ---------------------------------------------------------------------------- an assessor's own
@dataclass(frozen=True)
class OwnMonth:
    month: Month
    totals: Totals


def _blind(totals: Totals) -> Totals:
    # Anchors slipped into the live queue must stay unrecognizable (selectors.queue_row): an
    # assessor counting "1 drift check" in a month of one read would know it was an anchor.
    return replace(totals, live=totals.live + totals.drift_check, drift_check=0)


def own_pay(profile: AssessorProfile, month: Month) -> Totals:
    """What one assessor earned in a month, drift checks counted as the live reads they looked
    like; nobody else's figures are read."""
    return _blind(_total(_assessor_rows(_scores_in(month).filter(assignment__assessor=profile))))


def own_history(profile: AssessorProfile, last: Month, months: int = 12) -> list[OwnMonth]:
    """The assessor's pay month by month, up to `last`, newest first; months without scores
    are left out."""
    first = last
    for _ in range(months - 1):
        first = first.previous()
    site = timezone.get_default_timezone()
    rows = (
        Score.objects.filter(
            assignment__assessor=profile,
            submitted_at__gte=first.start,
            submitted_at__lt=last.end,
        )
        .annotate(month=TruncMonth("submitted_at", tzinfo=site))
        .values("month")
        .annotate(**_sums())
        .order_by("-month")
    )
    return [
        OwnMonth(
            month=Month.of(row["month"]),
            totals=_blind(
                Totals(
                    live=row["live"],
                    calibration=row["calibration"],
                    drift_check=row["drift_check"],
                    minutes=row["minutes"] or 0,
                    amount=_money(row["amount"]),
                )
            ),
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------- CSV
CSV_KINDS = ("assessor", "funder")


_ASSESSOR_COLUMNS: list[tuple[str, Callable[[AssessorPay], object]]] = [
    ("Assessor", lambda a: a.name),
    ("Email", lambda a: a.email),
    ("Live reads", lambda a: a.live),
    ("Calibration reads", lambda a: a.calibration),
    ("Drift check reads", lambda a: a.drift_check),
    ("All reads", lambda a: a.reads),
    ("Minutes", lambda a: a.minutes),
    ("Hours", lambda a: a.hours),
    ("Amount (USD)", lambda a: a.amount),
]
_FUNDER_COLUMNS: list[tuple[str, Callable[[FunderPay], object]]] = [
    ("Funding organization", lambda f: f.name),
    ("Reads", lambda f: f.reads),
    ("Minutes", lambda f: f.minutes),
    ("Hours", lambda f: f.hours),
    ("Amount (USD)", lambda f: f.amount),
]


def report_csv(report: PayReport, by: str) -> str:
    """One row per assessor (by="assessor") or per funding organization (by="funder"), each
    starting with the month so that files of several months can be pasted together."""
    columns: Sequence[tuple[str, Callable[[Any], object]]]
    if by == "assessor":
        columns, rows = _ASSESSOR_COLUMNS, report.assessors
    elif by == "funder":
        columns, rows = _FUNDER_COLUMNS, report.funders
    else:
        raise ValueError(f"No pay CSV by {by!r}.")
    return csv_text(
        ["Month", *(header for header, _ in columns)],
        ([report.month.value, *(get(row) for _, get in columns)] for row in rows),
    )
