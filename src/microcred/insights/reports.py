"""Program reports: how the micro-credential program is going, for the state and each district.

Measures, per group of the chosen breakdown and for the whole scope:

- uptake: educators who started an attempt, out of the educators in scope (active earner
  memberships at the district or its schools), and the attempts started;
- pass rate of first submissions and of later ones (resubmissions), out of those decided;
- resubmissions: how many, and the share of submitted attempts that came back at least once;
- time to earn: days from the start of an attempt to the decision that earned it (the award is
  made by that decision), median and 90th percentile;
- scoring turnaround: days from a submission to its decision, median and 90th percentile.

The scope is every earning attempt (never calibration) started in the date range, optionally of
one micro-credential and of one district (an attempt belongs to the district of its school).
Every figure is computed by the database, grouped: a report costs the same handful of queries
for ten attempts or a hundred thousand. Durations are counted per whole day (days are what a
program office reads), so medians and 90th percentiles come from a few hundred (group, day,
count) rows by the nearest-rank method, never from every row; that is portable to SQLite
and PostgreSQL alike.
A rate with nothing to divide by is None, never a division by zero.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Cast, Round
from django.utils import timezone

from microcred.assessment.models import Decision
from microcred.catalog.models import MicroCredential, MicroCredentialVersion, Stack
from microcred.earning.models import Attempt, Submission
from microcred.orgs.models import Membership, Organization, Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids

Kind = Organization.Kind
EARNED = Decision.Outcome.EARNED
# The percentiles the report gives for durations.
MEDIAN, P90 = 0.5, 0.9


# ---------------------------------------------------------------------------- breakdowns
@dataclass(frozen=True)
class Breakdown:
    """One way to group the report. `path` leads from an attempt to the group's value; the
    district facts live on the district (the parent of the attempt's school)."""

    key: str
    label: str
    path: str
    # Whether the educators in scope can be counted per group (facts of where they work), or
    # only for the whole scope (a micro-credential or stack says nothing about who could start).
    per_group_educators: bool
    # The row of attempts without a value (no school recorded, an MC in no stack).
    missing: str
    # Each attempt falls in exactly one group (not so for stacks: an MC may be in several),
    # so the groups' counts add up to the total.
    partitions: bool = True


BREAKDOWNS: dict[str, Breakdown] = {
    b.key: b
    for b in (
        Breakdown(
            "mc", "Micro-credential", "version__micro_credential_id", False, "Unknown credential"
        ),
        Breakdown(
            "stack",
            "Stack",
            "version__micro_credential__stack_memberships__stack_id",
            False,
            "Not in a stack",
            partitions=False,
        ),
        Breakdown("lea", "District (LEA)", "school__parent_id", True, "No school recorded"),
        Breakdown("region", "Region", "school__parent__region", True, "No region recorded"),
        Breakdown("locale", "Rural or urban", "school__parent__locale", True, "No locale recorded"),
        Breakdown(
            "low_wealth", "Low-wealth status", "school__parent__low_wealth", True, "Not recorded"
        ),
    )
}
DEFAULT_BREAKDOWN = "mc"
# How titles and captions name each breakdown: "Uptake by district".
NOUNS = {
    "mc": "micro-credential",
    "stack": "stack",
    "lea": "district",
    "region": "region",
    "locale": "rural or urban",
    "low_wealth": "low-wealth status",
}


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers. `starts_from`/`starts_before` bound the attempts' start
    (aware datetimes, the second excluded)."""

    breakdown: Breakdown
    lea: Organization | None = None
    micro_credential: MicroCredential | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    # The districts of the state view (None: every district, for a superuser).
    leas_of_state: tuple[int, ...] | None = None


# ---------------------------------------------------------------------------- figures
def rate(part: int, whole: int) -> float | None:
    """A percentage to one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100 * part / whole, 1)


class DaysBetween(Func):
    """Days (with fractions) from one timestamp to a later one, in native SQL: SQLite's
    julianday and PostgreSQL's epoch. Django's own datetime subtraction calls a Python function
    per row on SQLite, which is what a 100,000-row ranking cannot afford."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        start, end = self.source_expressions
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        if connection.vendor == "sqlite":
            sql = f"(julianday({end_sql}) - julianday({start_sql}))"
        else:
            sql = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)"
        return sql, (*end_params, *start_params)


@dataclass
class ReportRow:
    key: Any
    label: str
    educators: int | None = None
    earners_started: int = 0
    attempts: int = 0
    first_submissions: int = 0
    first_decided: int = 0
    first_passed: int = 0
    later_submissions: int = 0
    later_decided: int = 0
    later_passed: int = 0
    resubmitted_attempts: int = 0
    earned: int = 0
    earn_median: float | None = None
    earn_p90: float | None = None
    turnaround_median: float | None = None
    turnaround_p90: float | None = None

    @property
    def uptake(self) -> float | None:
        return rate(self.earners_started, self.educators or 0)

    @property
    def first_pass_rate(self) -> float | None:
        return rate(self.first_passed, self.first_decided)

    @property
    def later_pass_rate(self) -> float | None:
        return rate(self.later_passed, self.later_decided)

    @property
    def resubmission_rate(self) -> float | None:
        return rate(self.resubmitted_attempts, self.first_submissions)


@dataclass
class Report:
    filters: ReportFilters
    rows: list[ReportRow]
    total: ReportRow
    notes: list[str] = field(default_factory=list)
    computed_at: datetime = field(default_factory=timezone.now)
    # Guskey survey results of the same districts and micro-credential (insights.surveys).
    survey_levels: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.total.attempts == 0


# The measures a chart and a CSV column show, in order: (attribute, heading, unit).
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("educators", "Educators in scope", ""),
    ("earners_started", "Educators who started", ""),
    ("uptake", "Uptake", "%"),
    ("attempts", "Attempts started", ""),
    ("first_decided", "First submissions decided", ""),
    ("first_pass_rate", "Pass rate, first submission", "%"),
    ("later_decided", "Resubmissions decided", ""),
    ("later_pass_rate", "Pass rate, resubmissions", "%"),
    ("later_submissions", "Resubmissions", ""),
    ("resubmission_rate", "Attempts resubmitted", "%"),
    ("earned", "Attempts earned", ""),
    ("earn_median", "Time to earn, median", "days"),
    ("earn_p90", "Time to earn, 90th percentile", "days"),
    ("turnaround_median", "Scoring turnaround, median", "days"),
    ("turnaround_p90", "Scoring turnaround, 90th percentile", "days"),
)
# The charts drawn: one per measure that compares well across groups.
CHARTS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str], ...] = (
    ("uptake", "Uptake", (("uptake", "Uptake"),), "%"),
    (
        "pass",
        "Pass rate",
        (("first_pass_rate", "First submission"), ("later_pass_rate", "Resubmissions")),
        "%",
    ),
    ("resubmissions", "Attempts resubmitted", (("resubmission_rate", "Resubmitted"),), "%"),
    (
        "earn",
        "Time to earn",
        (("earn_median", "Median"), ("earn_p90", "90th percentile")),
        "days",
    ),
    (
        "turnaround",
        "Scoring turnaround",
        (("turnaround_median", "Median"), ("turnaround_p90", "90th percentile")),
        "days",
    ),
)


# ---------------------------------------------------------------------------- scope
def attempts_in_scope(filters: ReportFilters) -> QuerySet[Attempt]:
    return Attempt.objects.filter(_via("", filters))


def _via(prefix: str, filters: ReportFilters) -> Q:
    """The scope of attempts as a condition on rows that reach the attempt through `prefix`."""
    q = Q(**{f"{prefix}purpose": Attempt.Purpose.EARNING})
    if filters.lea is not None:
        q &= Q(**{f"{prefix}school__parent_id": filters.lea.pk})
    elif filters.leas_of_state is not None:
        q &= Q(**{f"{prefix}school__parent_id__in": filters.leas_of_state})
    if filters.micro_credential is not None:
        q &= Q(**{f"{prefix}version__micro_credential_id": filters.micro_credential.pk})
    if filters.starts_from is not None:
        q &= Q(**{f"{prefix}created__gte": filters.starts_from})
    if filters.starts_before is not None:
        q &= Q(**{f"{prefix}created__lt": filters.starts_before})
    return q


def _educator_memberships(filters: ReportFilters) -> QuerySet[Membership]:
    """Active earner roles at the districts in scope or their schools."""
    # A school's parent is always a district (Organization.ALLOWED_PARENTS).
    memberships = Membership.objects.filter(
        role=Role.EARNER,
        active=True,
        user__is_active=True,
        organization__kind__in=(Kind.SCHOOL, Kind.LEA),
    )
    if filters.lea is not None:
        ids: Iterable[int] = (filters.lea.pk,)
    elif filters.leas_of_state is not None:
        ids = filters.leas_of_state
    else:
        return memberships
    return memberships.filter(Q(organization_id__in=ids) | Q(organization__parent_id__in=ids))


def _district_fact(attribute: str) -> Case:
    """The district's fact for a membership at the district itself or at one of its schools."""
    return Case(
        When(organization__kind=Kind.LEA, then=F(f"organization__{attribute}")),
        default=F(f"organization__parent__{attribute}"),
    )


# ---------------------------------------------------------------------------- the report
def build_report(filters: ReportFilters) -> Report:
    breakdown = filters.breakdown
    rows: dict[Any, ReportRow] = {}
    total = ReportRow(key=None, label="All")

    def row(key: Any) -> ReportRow:
        if key not in rows:
            rows[key] = ReportRow(key=key, label="")
        return rows[key]

    # 1-2. Uptake and attempts started, per group and for the whole scope (an educator may
    # start in several groups: the whole is counted apart).
    g = breakdown.path
    attempts = attempts_in_scope(filters)
    for found in (
        attempts.values(g)
        .annotate(n=Count("pk"), people=Count("earner_id", distinct=True))
        .order_by()
    ):
        r = row(found[g])
        r.attempts, r.earners_started = found["n"], found["people"]
    whole = attempts.aggregate(n=Count("pk"), people=Count("earner_id", distinct=True))
    total.attempts, total.earners_started = whole["n"], whole["people"]

    # 3-4. Submissions and their decisions (withdrawn ones were never assessed).
    submissions = Submission.objects.filter(_via("attempt__", filters)).exclude(
        status__in=(Submission.Status.WITHDRAWN, Submission.Status.CALIBRATION)
    )
    decided = Q(decision__isnull=False)
    passed = Q(decision__outcome=EARNED)
    counts = {
        "first_submissions": Count("pk", filter=Q(number=1)),
        "first_decided": Count("pk", filter=Q(number=1) & decided),
        "first_passed": Count("pk", filter=Q(number=1) & passed),
        "later_submissions": Count("pk", filter=Q(number__gt=1)),
        "later_decided": Count("pk", filter=Q(number__gt=1) & decided),
        "later_passed": Count("pk", filter=Q(number__gt=1) & passed),
        # Numbers are unique per attempt: a second submission marks a resubmitted attempt.
        "resubmitted_attempts": Count("pk", filter=Q(number=2)),
        "earned": Count("pk", filter=passed),
    }
    sg = f"attempt__{g}"
    for found in submissions.values(sg).annotate(**counts).order_by():
        r = row(found[sg])
        for name in counts:
            setattr(r, name, found[name])
    if breakdown.partitions:
        for name in counts:
            setattr(total, name, sum(getattr(r, name) for r in rows.values()))
    else:
        for name, value in submissions.aggregate(**counts).items():
            setattr(total, name, value)

    # 5-6. Durations, as counts of whole days per group: the median and 90th percentile come
    # from these few hundred rows rather than from sorting every decision.
    decisions = Decision.objects.filter(_via("submission__attempt__", filters))
    dg = f"submission__attempt__{g}"
    measured = (
        (
            ("earn_median", "earn_p90"),
            decisions.filter(outcome=EARNED),
            DaysBetween("submission__attempt__created", "decided_at"),
        ),
        (
            ("turnaround_median", "turnaround_p90"),
            decisions,
            DaysBetween("submission__submitted_at", "decided_at"),
        ),
    )
    for (median_name, p90_name), queryset, duration in measured:
        per_group, whole_days = _day_counts(queryset, dg, duration, breakdown.partitions)
        for key, histogram in per_group.items():
            r = row(key)
            setattr(r, median_name, nearest_rank(histogram, MEDIAN))
            setattr(r, p90_name, nearest_rank(histogram, P90))
        setattr(total, median_name, nearest_rank(whole_days, MEDIAN))
        setattr(total, p90_name, nearest_rank(whole_days, P90))

    # 7. Educators in scope (the uptake's denominator).
    memberships = _educator_memberships(filters)
    total.educators = memberships.aggregate(n=Count("user_id", distinct=True))["n"]
    if breakdown.per_group_educators:
        attribute = {"lea": "id"}.get(breakdown.key, breakdown.key)
        for found in (
            memberships.annotate(group=_district_fact(attribute))
            .values("group")
            .annotate(n=Count("user_id", distinct=True))
            .order_by()
        ):
            # A district whose educators have started nothing yet still gets its row (0%).
            row(found["group"]).educators = found["n"]
    else:
        for r in rows.values():
            r.educators = total.educators
    if None in rows and breakdown.per_group_educators:
        rows[None].educators = None

    # 8. Names of the groups.
    _label(breakdown, rows)
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.label.lower()))
    notes = []
    if breakdown.key == "stack":
        notes.append(
            "A micro-credential in several stacks counts in each of them, so the stacks add up "
            "to more than the total."
        )
    if filters.starts_from or filters.starts_before:
        notes.append("The survey results below are not limited by the dates of the attempts.")
    return Report(
        filters=filters, rows=ordered, total=total, notes=notes, survey_levels=_surveys(filters)
    )


def _surveys(filters: ReportFilters) -> list[Any]:
    from .surveys import level_summary

    if filters.lea is not None:
        organizations: list[int] | None = [filters.lea.pk]
    elif filters.leas_of_state is not None:
        organizations = list(filters.leas_of_state)
    else:
        organizations = None
    versions = None
    if filters.micro_credential is not None:
        versions = MicroCredentialVersion.objects.filter(
            micro_credential_id=filters.micro_credential.pk
        ).values_list("pk", flat=True)
    return level_summary(organizations, versions)


def _day_counts(
    queryset: QuerySet[Any], group: str, duration: DaysBetween, partitions: bool
) -> tuple[dict[Any, dict[int, int]], dict[int, int]]:
    """How many rows took each whole number of days, per group and for the whole scope (summed
    from the groups when they partition it, else counted by one more query)."""
    days_of = Cast(Round(duration), IntegerField())
    per_group: dict[Any, dict[int, int]] = {}
    whole: dict[int, int] = {}
    rows = (
        queryset.annotate(group=F(group), day=days_of)
        .values_list("group", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for key, day, n in rows:
        per_group.setdefault(key, {})[day] = n
        if partitions:
            whole[day] = whole.get(day, 0) + n
    if not partitions:
        for day, n in (
            queryset.annotate(day=days_of).values_list("day").annotate(n=Count("pk")).order_by()
        ):
            whole[day] = n
    return per_group, whole


def nearest_rank(histogram: dict[int, int], p: float) -> float | None:
    """The value at rank ceil(p x n) of the counted values (the nearest-rank percentile);
    None when nothing was counted."""
    size = sum(histogram.values())
    if not size:
        return None
    # The epsilon keeps 0.9 x 10 at rank 9, whatever the float rounding.
    rank = max(1, math.ceil(p * size - 1e-9))
    seen = 0
    for day in sorted(histogram):
        seen += histogram[day]
        if seen >= rank:
            return float(day)
    return float(max(histogram))


def _label(breakdown: Breakdown, rows: dict[Any, ReportRow]) -> None:
    keys = [key for key in rows if key is not None]
    names: dict[Any, str] = {}
    if breakdown.key == "mc":
        names = mc_titles(keys)
    elif breakdown.key == "stack":
        names = dict(Stack.objects.filter(pk__in=keys).values_list("pk", "title"))
    elif breakdown.key == "lea":
        names = dict(Organization.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif breakdown.key == "locale":
        names = dict(Organization.Locale.choices)
    elif breakdown.key == "low_wealth":
        names = {True: "Low-wealth", False: "Not low-wealth"}
    for key, r in rows.items():
        if key is None and breakdown.per_group_educators:
            r.label = "No school recorded"
        elif key is None or key == "":
            r.label = breakdown.missing
        else:
            r.label = str(names.get(key, key))


def mc_titles(ids: Iterable[int] | None = None) -> dict[int, str]:
    """Each micro-credential's title, from its latest version (an MC itself has no title)."""
    versions = MicroCredentialVersion.objects.order_by("micro_credential_id", "number")
    if ids is not None:
        versions = versions.filter(micro_credential_id__in=list(ids))
    # Later versions overwrite earlier ones: the newest title wins.
    return dict(versions.values_list("micro_credential_id", "title"))


def chart_specs(report: Report) -> list[dict[str, Any]]:
    """The charts of insights/charts.js (one per measure, a bar per group)."""
    labels = [r.label for r in report.rows]
    specs = []
    for key, title, series, unit in CHARTS:
        specs.append(
            {
                "id": f"chart-{key}",
                "spec": {
                    "type": "bar",
                    "title": f"{title} by {NOUNS[report.filters.breakdown.key]}",
                    "labels": labels,
                    "datasets": [
                        {"label": name, "data": [getattr(r, attribute) for r in report.rows]}
                        for attribute, name in series
                    ],
                    "unit": unit,
                },
                "title": title,
                "series": series,
                "unit": unit,
            }
        )
    return specs


def csv_header(report: Report) -> list[str]:
    units = {"%": " (%)", "days": " (days)"}
    return [report.filters.breakdown.label] + [
        heading + units.get(unit, "") for _, heading, unit in MEASURES
    ]


def csv_rows(report: Report) -> list[list[Any]]:
    """The table's rows and its total, empty cells where a figure cannot be computed."""
    out = []
    for r in [*report.rows, report.total]:
        label = r.label if r is not report.total else "All (total)"
        out.append([label] + ["" if (v := getattr(r, a)) is None else v for a, _, _ in MEASURES])
    return out


# ---------------------------------------------------------------------------- who reads what
@dataclass(frozen=True)
class ReportAccess:
    """What a user may read: the whole state (a state program admin, a researcher at the state
    agency, a superuser) and the districts whose reports they may open."""

    state: Organization | None
    sees_state: bool
    leas: tuple[Organization, ...]

    def lea(self, pk: Any) -> Organization | None:
        return next((lea for lea in self.leas if str(lea.pk) == str(pk)), None)


def report_access(user: Any) -> ReportAccess:
    """From the user's active memberships only; cached on the user for the request."""
    cached = getattr(user, "_microcred_report_access", None)
    if cached is not None:
        return cached
    access = ReportAccess(None, False, ())
    if getattr(user, "is_authenticated", False) and user.is_active:
        held = role_organization_ids(user)
        admin = held.get(Role.PROGRAM_ADMIN, frozenset())
        researcher = held.get(Role.RESEARCHER, frozenset())
        superuser = is_active_superuser(user)
        if superuser or admin or researcher:
            states = list(
                Organization.objects.filter(
                    kind=Kind.STATE_AGENCY, active=True, pk__in=admin | researcher
                ).order_by("name", "pk")
            )
            if superuser and not states:
                states = list(
                    Organization.objects.filter(kind=Kind.STATE_AGENCY, active=True).order_by(
                        "name", "pk"
                    )[:1]
                )
            leas = Organization.objects.filter(kind=Kind.LEA, active=True)
            if not superuser:
                leas = leas.filter(
                    Q(pk__in=admin) | Q(parent_id__in=[state.pk for state in states])
                )
            found = tuple(leas.order_by("name", "pk"))
            access = ReportAccess(
                state=states[0] if states else None,
                sees_state=superuser or bool(states),
                leas=found,
            )
    user._microcred_report_access = access
    return access


def display(value: Any, unit: str) -> str | None:
    """A figure as the table shows it ("42.5%", "12.0 days", "1,204"); None for no figure."""
    if value is None:
        return None
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:,}"


# How reports are kept. Counting a state's 100,000 submissions takes seconds (bench/reports.py
# prints it), and in a live state something is added every minute: recounting on every change
# would make nearly every visit wait. So a report is kept with the data version it counted;
# while the version is the same and the copy is under FRESH_SECONDS old it is served as is.
# When the data moved on (or the copy aged) but the copy is under STALE_SECONDS old, it is
# still served, with its time, and the worker recounts it once; only older or missing copies
# are counted while the person waits. Edits in place (a withdrawal, a district's region
# changed) make no new version; they show once the copy is FRESH_SECONDS old.
FRESH_SECONDS = 600
STALE_SECONDS = 6 * 3600
# Part of every key: change it whenever Report changes shape, so no process reads a copy
# pickled by an older release.
CACHE_PREFIX = "insights:program-report:v3:"


@dataclass(frozen=True)
class KeptReport:
    version: tuple[Any, ...]
    report: Report


def data_version() -> tuple[Any, ...]:
    """The newest row of each table the figures read, in one query of index look-ups: any
    attempt, submission, decision, membership or organization added makes a new version."""

    def newest(model: Any) -> Subquery:
        return Subquery(model.objects.order_by("-pk").values("pk")[:1])

    found = (
        Organization.objects.order_by()
        .annotate(
            a=newest(Attempt),
            s=newest(Submission),
            d=newest(Decision),
            m=newest(Membership),
            o=newest(Organization),
        )
        .values_list("a", "s", "d", "m", "o")[:1]
    )
    return tuple(found[0]) if found else ()


def filters_spec(filters: ReportFilters) -> dict[str, Any]:
    """The filters as plain JSON, to name the cache entry and to hand the worker."""
    return {
        "group": filters.breakdown.key,
        "lea": filters.lea.pk if filters.lea else None,
        "mc": filters.micro_credential.pk if filters.micro_credential else None,
        "from": filters.starts_from.isoformat() if filters.starts_from else None,
        "before": filters.starts_before.isoformat() if filters.starts_before else None,
        "leas_of_state": list(filters.leas_of_state) if filters.leas_of_state is not None else None,
    }


def filters_from_spec(spec: dict[str, Any]) -> ReportFilters | None:
    """The filters again, in the worker; None if a district or MC named is gone."""
    lea = Organization.objects.filter(pk=spec["lea"]).first() if spec["lea"] else None
    mc = MicroCredential.objects.filter(pk=spec["mc"]).first() if spec["mc"] else None
    if (spec["lea"] and lea is None) or (spec["mc"] and mc is None):
        return None
    leas = spec["leas_of_state"]
    return ReportFilters(
        breakdown=BREAKDOWNS[spec["group"]],
        lea=lea,
        micro_credential=mc,
        starts_from=datetime.fromisoformat(spec["from"]) if spec["from"] else None,
        starts_before=datetime.fromisoformat(spec["before"]) if spec["before"] else None,
        leas_of_state=tuple(leas) if leas is not None else None,
    )


def _cache_key(spec: dict[str, Any]) -> str:
    identity = json.dumps(spec, sort_keys=True)
    return CACHE_PREFIX + hashlib.sha256(identity.encode()).hexdigest()


def recount(filters: ReportFilters) -> Report:
    """Count the report and keep it. The version is read first: a row added while counting
    makes the next visit recount."""
    version = data_version()
    report = build_report(filters)
    key = _cache_key(filters_spec(filters))
    cache.set(key, KeptReport(version, report), STALE_SECONDS)
    cache.delete(key + ":recounting")
    return report


def cached_report(filters: ReportFilters) -> Report:
    """The report as kept (see FRESH_SECONDS), recounted in the worker or, for a copy too old
    or missing, now."""
    from .tasks import recount_report

    spec = filters_spec(filters)
    key = _cache_key(spec)
    kept = cache.get(key)
    if isinstance(kept, KeptReport):
        age = (timezone.now() - kept.report.computed_at).total_seconds()
        if age < FRESH_SECONDS and kept.version == data_version():
            return kept.report
        if age < STALE_SECONDS:
            # One recount per report at a time, however many people look meanwhile.
            if cache.add(key + ":recounting", True, FRESH_SECONDS):
                recount_report.enqueue(spec)
            return kept.report
    return recount(filters)
