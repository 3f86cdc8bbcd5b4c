"""De-identified research exports: attempts, submissions, credentials and survey answers, for
researchers and evaluators (the researcher role at a state agency).

What leaves the system:
- no names, email addresses, license numbers, school names, free text or exact dates: people,
  attempts and districts appear as stable pseudonyms, dates as months, durations in days;
- a pseudonym is HMAC-SHA256 of the record's id under a key derived from SECRET_KEY and a fixed
  purpose string (django.utils.crypto.salted_hmac): the same person has the same id in every
  export, and nobody without the key can compute it back or test a guess;
- small cells: where fewer than K educators share a district and micro-credential within an
  export, the rows say "suppressed" instead of the district; where its region, locale and
  low-wealth status would still single out fewer than K educators, those are suppressed too,
  step by step (Cells), so uptake by rural and low-wealth districts stays studiable wherever it
  does not name a district; any count under K shown on the page reads "<10".

Every export is audited (dataset, row count, filters) before its first byte, and streams in
chunks of CHUNK rows, each chunk a fixed number of queries.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from microcred.assessment.models import Decision
from microcred.credentials.models import IssuedCredential
from microcred.earning.models import Attempt, Submission, TeamMember
from microcred.orgs.models import AuditEvent, Organization, Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids
from microcred.orgs.services import record_audit
from microcred.web.spreadsheets import safe_cell

from .models import Level, SurveyAnswer, SurveyResponse

K = 10
SUPPRESSED = "suppressed"
CHUNK = 2000
# Fixed: changing it changes every pseudonym, and researchers could no longer join old exports
# to new ones.
PSEUDONYM_PURPOSE = "microcred.insights.research.pseudonym.v1"
AUDIT_ACTION = "insights.research_exported"


def pseudonym(kind: str, pk: int | None) -> str:
    """E… for an educator, A… for an attempt, L… for a district: the same every time."""
    if pk is None:
        return ""
    digest = salted_hmac(PSEUDONYM_PURPOSE, f"{kind}:{pk}", algorithm="sha256").hexdigest()
    return f"{kind[0].upper()}{digest[:20]}"


def month(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m") if value else ""


def days_between(start: datetime | None, end: datetime | None) -> int | str:
    if start is None or end is None:
        return ""
    return max((end - start).days, 0)


def count_label(n: int) -> str:
    """A count as the page shows it: under K it reads "<10"."""
    return f"<{K}" if n < K else f"{n:,}"


# ---------------------------------------------------------------------------- who, where
def scope_of(user: Any) -> list[int] | None:
    """The state agencies whose districts' data the user may export; None: every one (a
    superuser)."""
    if is_active_superuser(user):
        return None
    return sorted(role_organization_ids(user).get(Role.RESEARCHER, frozenset()))


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    type: str
    deidentified: str


@dataclass(frozen=True)
class Filters:
    micro_credential: str = ""  # a micro-credential's slug; "" for all

    def as_dict(self) -> dict[str, str]:
        return {"micro_credential": self.micro_credential or "all"}


GEOGRAPHY = [
    Column(
        "lea",
        'The educator\'s district (LEA) at the time, as a pseudonym; "suppressed" in small '
        f"cells (fewer than {K} educators of the district with this micro-credential in the "
        "export); empty when the educator has no school on record.",
        "text",
        "Keyed HMAC-SHA256 pseudonym, never the district's name or code; small cells suppressed.",
    ),
    Column("region", "The district's region of the state.", "text", "Kept (a region is large)."),
    Column(
        "locale",
        "The district's locale: rural, town, suburb or city.",
        "text",
        "Kept.",
    ),
    Column("low_wealth", "Whether the district is low-wealth: yes or no.", "yes/no", "Kept."),
]
EDUCATOR = Column(
    "educator_id",
    "The educator, the same in every export.",
    "text",
    "Keyed HMAC-SHA256 pseudonym of the account (no name, email, username, license number or "
    "account number).",
)
ATTEMPT = Column(
    "attempt_id",
    "The attempt, to join attempts, submissions and credentials.",
    "text",
    "Keyed HMAC-SHA256 pseudonym.",
)
MC = Column(
    "micro_credential", "The micro-credential's short name (slug).", "text", "Public catalog name."
)
VERSION = Column(
    "version", "The version of the micro-credential the attempt is pinned to.", "integer", "Kept."
)


@dataclass
class Geo:
    """Where the query paths of a dataset lead: the district row and the micro-credential."""

    lea: str
    mc: str
    educator: str
    state: str


@dataclass
class Dataset:
    name: str
    title: str
    description: str
    columns: list[Column]
    geo: Geo
    base: Callable[[Filters], QuerySet[Any]]
    fields: list[str]
    make_rows: Callable[
        [list[dict[str, Any]], Callable[[dict[str, Any], str, Any], int]], Iterator[list[object]]
    ]
    notes: list[str] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def queryset(self, scope: list[int] | None, filters: Filters) -> QuerySet[Any]:
        rows = self.base(filters)
        if scope is not None:
            rows = rows.filter(**{f"{self.geo.state}__in": scope})
        return rows

    def cells(self, rows: QuerySet[Any]) -> Cells:
        """Distinct educators per group at each level of geography, per micro-credential: one
        aggregate query per level."""
        lea, mc = self.geo.lea, self.geo.mc
        levels = (
            [lea],
            [f"{lea}__region", f"{lea}__locale", f"{lea}__low_wealth"],
            [f"{lea}__locale", f"{lea}__low_wealth"],
        )
        counts = []
        for keys in levels:
            counted = (
                rows.filter(**{f"{lea}__isnull": False})
                .values(*keys, mc)
                .annotate(n=Count(self.geo.educator, distinct=True))
                .order_by()
            )
            counts.append({tuple(row[k] for k in (*keys, mc)): row["n"] for row in counted})
        return Cells(*counts)


@dataclass(frozen=True)
class Cells:
    """Educators per group, to suppress geography step by step: the district where its group
    is small; then the region too where the district's region, locale and low-wealth status
    together cover fewer than K educators (a region with one small rural district would name
    it); then locale and low-wealth status as well where even those two are too few."""

    by_district: dict[tuple[Any, ...], int]
    by_region: dict[tuple[Any, ...], int]
    by_profile: dict[tuple[Any, ...], int]

    def hidden(self, row: dict[str, Any], lea: str, mc_id: Any) -> int:
        """How many geography columns to hide: 0 (none), 1 (district), 2 (and region),
        3 (and locale and low-wealth status)."""
        if row[lea] is None or self.by_district.get((row[lea], mc_id), 0) >= K:
            return 0
        locale, low_wealth = row[f"{lea}__locale"], row[f"{lea}__low_wealth"]
        if self.by_region.get((row[f"{lea}__region"], locale, low_wealth, mc_id), 0) >= K:
            return 1
        if self.by_profile.get((locale, low_wealth, mc_id), 0) >= K:
            return 2
        return 3


def _geo_fields(lea: str) -> list[str]:
    return [lea, f"{lea}__region", f"{lea}__locale", f"{lea}__low_wealth"]


def _geo_cells(row: dict[str, Any], lea: str, hidden: int) -> list[object]:
    if row[lea] is None:
        return ["", "", "", ""]
    shown = [
        pseudonym("lea", row[lea]),
        row[f"{lea}__region"],
        row[f"{lea}__locale"],
        "yes" if row[f"{lea}__low_wealth"] else "no",
    ]
    # Hiding the third level takes locale and low-wealth status together.
    cut = {0: 0, 1: 1, 2: 2, 3: 4}[hidden]
    return [SUPPRESSED] * cut + shown[cut:]


# ---------------------------------------------------------------------------- attempts
def _attempts(filters: Filters) -> QuerySet[Attempt]:
    rows = Attempt.objects.filter(purpose=Attempt.Purpose.EARNING)
    if filters.micro_credential:
        rows = rows.filter(version__micro_credential__slug=filters.micro_credential)
    return rows


def _submission_facts(attempt_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each attempt's submissions with their decision, in order: one query."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        Submission.objects.filter(attempt_id__in=attempt_ids)
        .order_by("attempt_id", "number")
        .values("attempt_id", "number", "status", "decision__outcome", "decision__decided_at")
    )
    for row in rows:
        found[row["attempt_id"]].append(row)
    return found


def _team_sizes(team_ids: list[int]) -> dict[int, int]:
    rows = (
        TeamMember.objects.filter(team_id__in=team_ids, status=TeamMember.Status.ACTIVE)
        .values("team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["team_id"]: row["n"] for row in rows}


def _first_outcome(submissions: list[dict[str, Any]]) -> str:
    if not submissions:
        return ""
    first = submissions[0]
    if first["decision__outcome"]:
        return first["decision__outcome"]
    if first["status"] == Submission.Status.WITHDRAWN:
        return "withdrawn"
    return "waiting"


def _attempt_rows(chunk: list[dict[str, Any]], cells: Callable[..., int]) -> Iterator[list[object]]:
    facts = _submission_facts([row["pk"] for row in chunk])
    teams = _team_sizes([row["team"] for row in chunk if row["team"]])
    lea = "school__parent"
    for row in chunk:
        submissions = facts.get(row["pk"], [])
        earned_at = next(
            (
                s["decision__decided_at"]
                for s in submissions
                if s["decision__outcome"] == Decision.Outcome.EARNED
            ),
            None,
        )
        yield [
            pseudonym("educator", row["earner"]),
            pseudonym("attempt", row["pk"]),
            row["version__micro_credential__slug"],
            row["version__number"],
            max(teams.get(row["team"], 1), 1) if row["team"] else 1,
            *_geo_cells(row, lea, cells(row, lea, row["version__micro_credential"])),
            month(row["created"]),
            row["status"],
            len(submissions),
            _first_outcome(submissions),
            month(earned_at),
            days_between(row["created"], earned_at),
        ]


ATTEMPTS = Dataset(
    name="attempts",
    title="Attempts",
    description=(
        "One row per attempt at a micro-credential (alone or as a team): where and when it "
        "started, how far it got, how many submissions it took and how long to earn."
    ),
    columns=[
        EDUCATOR,
        ATTEMPT,
        MC,
        VERSION,
        Column(
            "team_size",
            "Educators on the attempt: 1 alone, more for a team (the row's educator started it).",
            "integer",
            "Kept.",
        ),
        *GEOGRAPHY,
        Column("started_month", "Month the attempt started (YYYY-MM).", "month", "Month only."),
        Column(
            "status",
            "Where the attempt stands: awaiting_preapproval, in_progress, submitted, "
            "in_scoring, not_yet, earned, withdrawn or preapproval_declined.",
            "text",
            "Kept.",
        ),
        Column("submissions", "Portfolios submitted so far.", "integer", "Kept."),
        Column(
            "first_submission_outcome",
            "What the first submission got: earned, not_yet, waiting (not decided yet), "
            "withdrawn, or empty when nothing was submitted.",
            "text",
            "Kept.",
        ),
        Column("earned_month", "Month it was earned (YYYY-MM), if it was.", "month", "Month only."),
        Column(
            "days_to_earn",
            "Days from starting to the decision that earned it.",
            "integer",
            "A duration, never a date.",
        ),
    ],
    geo=Geo(
        lea="school__parent",
        mc="version__micro_credential",
        educator="earner",
        state="school__parent__parent",
    ),
    base=_attempts,
    fields=[
        "pk",
        "earner",
        "team",
        "created",
        "status",
        "version__number",
        "version__micro_credential",
        "version__micro_credential__slug",
        *_geo_fields("school__parent"),
    ],
    make_rows=_attempt_rows,
)


# ---------------------------------------------------------------------------- submissions
def _submissions(filters: Filters) -> QuerySet[Submission]:
    rows = Submission.objects.filter(attempt__purpose=Attempt.Purpose.EARNING).exclude(
        status=Submission.Status.CALIBRATION
    )
    if filters.micro_credential:
        rows = rows.filter(attempt__version__micro_credential__slug=filters.micro_credential)
    return rows


def _submission_rows(
    chunk: list[dict[str, Any]], cells: Callable[..., int]
) -> Iterator[list[object]]:
    lea = "attempt__school__parent"
    for row in chunk:
        yield [
            pseudonym("educator", row["attempt__earner"]),
            pseudonym("attempt", row["attempt"]),
            row["attempt__version__micro_credential__slug"],
            row["attempt__version__number"],
            *_geo_cells(row, lea, cells(row, lea, row["attempt__version__micro_credential"])),
            row["number"],
            month(row["submitted_at"]),
            row["status"],
            row["decision__outcome"] or "",
            month(row["decision__decided_at"]),
            days_between(row["submitted_at"], row["decision__decided_at"]),
        ]


SUBMISSIONS = Dataset(
    name="submissions",
    title="Submissions and decisions",
    description=(
        "One row per submitted portfolio: its number within the attempt, the decision and how "
        "long scoring took."
    ),
    columns=[
        EDUCATOR,
        ATTEMPT,
        MC,
        VERSION,
        *GEOGRAPHY,
        Column(
            "number",
            "1 for the first submission of the attempt, 2 for the next…",
            "integer",
            "Kept.",
        ),
        Column("submitted_month", "Month it was submitted (YYYY-MM).", "month", "Month only."),
        Column(
            "status",
            "awaiting_assessor, in_scoring, decided or withdrawn.",
            "text",
            "Kept.",
        ),
        Column(
            "outcome", "The decision: earned or not_yet (empty until decided).", "text", "Kept."
        ),
        Column("decided_month", "Month of the decision (YYYY-MM).", "month", "Month only."),
        Column(
            "days_to_decision",
            "Scoring turnaround: days from submission to decision.",
            "integer",
            "A duration, never a date.",
        ),
    ],
    geo=Geo(
        lea="attempt__school__parent",
        mc="attempt__version__micro_credential",
        educator="attempt__earner",
        state="attempt__school__parent__parent",
    ),
    base=_submissions,
    fields=[
        "pk",
        "attempt",
        "attempt__earner",
        "attempt__version__number",
        "attempt__version__micro_credential",
        "attempt__version__micro_credential__slug",
        "number",
        "submitted_at",
        "status",
        "decision__outcome",
        "decision__decided_at",
        *_geo_fields("attempt__school__parent"),
    ],
    make_rows=_submission_rows,
)


# ---------------------------------------------------------------------------- credentials
def _credentials(filters: Filters) -> QuerySet[IssuedCredential]:
    rows = IssuedCredential.objects.filter(award__isnull=False)
    if filters.micro_credential:
        rows = rows.filter(award__attempt__version__micro_credential__slug=filters.micro_credential)
    return rows


def _credential_rows(
    chunk: list[dict[str, Any]], cells: Callable[..., int]
) -> Iterator[list[object]]:
    lea = "award__attempt__school__parent"
    for row in chunk:
        mc = row["award__attempt__version__micro_credential"]
        yield [
            pseudonym("educator", row["award__earner"]),
            pseudonym("attempt", row["award__attempt"]),
            row["award__attempt__version__micro_credential__slug"],
            row["award__attempt__version__number"],
            *_geo_cells(row, lea, cells(row, lea, mc)),
            month(row["issued_at"]),
            "yes" if row["revocation__revoked_at"] else "no",
            month(row["revocation__revoked_at"]),
        ]


CREDENTIALS = Dataset(
    name="credentials",
    title="Credentials",
    description=(
        "One row per micro-credential credential issued to an educator (each member of a team "
        "holds their own), and whether it was revoked."
    ),
    columns=[
        EDUCATOR,
        ATTEMPT,
        MC,
        VERSION,
        *GEOGRAPHY,
        Column(
            "issued_month", "Month the credential was issued (YYYY-MM).", "month", "Month only."
        ),
        Column("revoked", "Whether it was revoked since: yes or no.", "yes/no", "Kept."),
        Column(
            "revoked_month",
            "Month it was revoked (YYYY-MM); the reason is never exported (free text).",
            "month",
            "Month only; the reason left out.",
        ),
    ],
    geo=Geo(
        lea="award__attempt__school__parent",
        mc="award__attempt__version__micro_credential",
        educator="award__earner",
        state="award__attempt__school__parent__parent",
    ),
    base=_credentials,
    fields=[
        "pk",
        "award__earner",
        "award__attempt",
        "award__attempt__version__number",
        "award__attempt__version__micro_credential",
        "award__attempt__version__micro_credential__slug",
        "issued_at",
        "revocation__revoked_at",
        *_geo_fields("award__attempt__school__parent"),
    ],
    make_rows=_credential_rows,
    notes=["Credentials for completed stacks are not included; their micro-credentials are."],
)


# ---------------------------------------------------------------------------- survey answers
def _responses(filters: Filters) -> QuerySet[SurveyResponse]:
    rows = SurveyResponse.objects.all()
    if filters.micro_credential:
        rows = rows.filter(invitation__version__micro_credential__slug=filters.micro_credential)
    return rows


def _ratings(response_ids: list[int]) -> dict[int, dict[int, int | None]]:
    found: dict[int, dict[int, int | None]] = defaultdict(dict)
    rows = SurveyAnswer.objects.filter(response_id__in=response_ids).values_list(
        "response_id", "level", "rating"
    )
    for response_id, level, rating in rows:
        found[response_id][level] = rating
    return found


def _survey_rows(chunk: list[dict[str, Any]], cells: Callable[..., int]) -> Iterator[list[object]]:
    ratings = _ratings([row["pk"] for row in chunk])
    lea = "invitation__lea"
    for row in chunk:
        given = ratings.get(row["pk"], {})
        yield [
            pseudonym("educator", row["invitation__educator"]),
            row["invitation__version__micro_credential__slug"],
            row["invitation__version__number"],
            row["invitation__wave"],
            *_geo_cells(row, lea, cells(row, lea, row["invitation__version__micro_credential"])),
            month(row["created"]),
            *[
                "n/a" if given.get(level, "") is None else given.get(level, "")
                for level in Level.values
            ],
        ]


SURVEY_ANSWERS = Dataset(
    name="survey_answers",
    title="Survey answers (Guskey levels)",
    description=(
        "One row per survey answered after an award or at the follow-up: the 1-5 agreement "
        "rating given for each of Guskey's five levels. Comments are never exported: free text "
        "can name a school, a colleague or a student."
    ),
    columns=[
        EDUCATOR,
        MC,
        VERSION,
        Column(
            "wave",
            "after_award (sent when the credential was issued) or follow_up (months later).",
            "text",
            "Kept.",
        ),
        *GEOGRAPHY,
        Column("responded_month", "Month of the answers (YYYY-MM).", "month", "Month only."),
        *[
            Column(
                f"level_{level.value}",
                f"Level {level.value}, {level.label}: 1 strongly disagree to 5 strongly agree, "
                "n/a for “doesn't apply to me”.",
                "integer 1-5 or n/a",
                "Kept; the optional comment is never exported.",
            )
            for level in Level
        ],
    ],
    geo=Geo(
        lea="invitation__lea",
        mc="invitation__version__micro_credential",
        educator="invitation__educator",
        state="invitation__lea__parent",
    ),
    base=_responses,
    fields=[
        "pk",
        "created",
        "invitation__educator",
        "invitation__wave",
        "invitation__version__number",
        "invitation__version__micro_credential",
        "invitation__version__micro_credential__slug",
        *_geo_fields("invitation__lea"),
    ],
    make_rows=_survey_rows,
    notes=["Comments are never exported: free text can identify people."],
)

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset for dataset in (ATTEMPTS, SUBMISSIONS, CREDENTIALS, SURVEY_ANSWERS)
}


# ---------------------------------------------------------------------------- exporting
def rows_of(dataset: Dataset, scope: list[int] | None, filters: Filters) -> Iterator[list[object]]:
    """Every row of the dataset, in chunks of CHUNK read by primary key (so each chunk is an
    indexed range, however far into the export), small cells suppressed."""
    rows = dataset.queryset(scope, filters)
    cells = dataset.cells(rows)

    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk").values(*dataset.fields)[:CHUNK])
        if not chunk:
            return
        yield from dataset.make_rows(chunk, cells.hidden)
        last = chunk[-1]["pk"]


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterator[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


@dataclass(frozen=True)
class Export:
    dataset: Dataset
    filters: Filters
    rows: int
    lines: Iterator[str]

    @property
    def filename(self) -> str:
        today = timezone.localdate()
        which = f"-{self.filters.micro_credential}" if self.filters.micro_credential else ""
        return f"microcred-research-{self.dataset.name}{which}-{today:%Y-%m-%d}.csv"


def _audit_target(user: Any, scope: list[int] | None) -> Model:
    if scope:
        return Organization.objects.get(pk=scope[0])
    return user


def start_export(user: Any, dataset_name: str, filters: Filters) -> Export:
    """Audit the export (dataset, rows, filters), then hand back its CSV lines to stream.
    Raises PermissionError for someone who may not export, KeyError for an unknown dataset:
    nothing is written in either case."""
    if not user.has_perm("insights.export_research"):
        raise PermissionError("Research exports are for researchers at the state agency.")
    dataset = DATASETS[dataset_name]
    scope = scope_of(user)
    count = dataset.queryset(scope, filters).count()
    target = _audit_target(user, scope)
    with transaction.atomic():
        record_audit(
            user,
            AUDIT_ACTION,
            target,
            data={"dataset": dataset.name, "rows": count, "filters": filters.as_dict()},
            organization=target if isinstance(target, Organization) else None,
        )
    lines = csv_lines(dataset.header, rows_of(dataset, scope, filters))
    return Export(dataset, filters, count, lines)


def available(user: Any) -> list[tuple[Dataset, str]]:
    """Each dataset with its row count as the page shows it (one count query each)."""
    scope = scope_of(user)
    return [
        (dataset, count_label(dataset.queryset(scope, Filters()).count()))
        for dataset in DATASETS.values()
    ]


@dataclass(frozen=True)
class PastExport:
    created: datetime
    dataset: str
    rows: int | None
    filters: dict[str, Any]


def past_exports(user: Any, limit: int = 20) -> list[PastExport]:
    events = AuditEvent.objects.filter(actor_id=user.pk, action=AUDIT_ACTION).order_by(
        "-created", "-id"
    )[:limit]
    titles = {name: dataset.title for name, dataset in DATASETS.items()}
    return [
        PastExport(
            created=event.created,
            dataset=titles.get(event.data.get("dataset", ""), event.data.get("dataset", "")),
            rows=event.data.get("rows"),
            filters=event.data.get("filters", {}),
        )
        for event in events
    ]


# ---------------------------------------------------------------------------- the dictionary
DICTIONARY_HEADER = ["dataset", "column", "meaning", "type", "how it is de-identified"]


def dictionary_rows() -> Iterator[list[str]]:
    for dataset in DATASETS.values():
        for column in dataset.columns:
            yield [dataset.name, column.name, column.meaning, column.type, column.deidentified]


def suppression_rule() -> str:
    return (
        f"In each export, rows are grouped by district (LEA), locale, low-wealth status and "
        f"micro-credential. Where a group covers fewer than {K} distinct educators, the "
        f"district column of its rows reads “{SUPPRESSED}”. Where the district's region, "
        f"locale and low-wealth status together still cover fewer than {K} educators with that "
        f"micro-credential, the region reads “{SUPPRESSED}” too; where its locale and "
        f"low-wealth status alone cover fewer than {K}, those read “{SUPPRESSED}” as well. "
        f"Counts under {K} shown on this page read “<{K}”."
    )
