"""Staff progress: what the educators of a school or a district are working on, for their
principal and for the district's program staff.

A *unit* is what a viewer looks at: a school (its principal) or a district (its program
admins, and the state's program admins, who pick one). The unit's staff are the earners with
an active membership at the school, or at the district or any of its schools. Each row says
which micro-credentials an educator has in progress, what waits for an assessor's decision,
which credentials they hold and where their license renewal stands.

Every read is one bulk query over the educators of a page (or of a CSV chunk): a page costs
the same few queries for 5 educators or 5,000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from microcred.credentials.models import IssuedCredential
from microcred.earning.models import Attempt, PreApproval, Submission, TeamMember
from microcred.orgs.models import Membership, Organization, Role, User
from microcred.orgs.selectors import is_active_superuser, role_organization_ids
from microcred.recognition import renewal
from microcred.recognition.models import RenewalCycle
from microcred.recognition.renewal import RenewalProgress

Kind = Organization.Kind
# An attempt still on its way: everything but earned, withdrawn and declined.
OPEN_STATUSES: frozenset[str] = frozenset(
    set(Attempt.Status.values)
    - {Attempt.Status.EARNED, Attempt.Status.WITHDRAWN, Attempt.Status.PREAPPROVAL_DECLINED}
)
# A submission an assessor has not decided yet.
WAITING_STATUSES = (Submission.Status.AWAITING_ASSESSOR, Submission.Status.IN_SCORING)
# "Renewal ending within 12 months", as the licenses list counts it.
HORIZON_MONTHS = 12
# Educators per bulk read when the CSV walks a whole district.
CSV_CHUNK = 1000


# ---------------------------------------------------------------------------- who sees what
def has_staff_role(user: Any) -> bool:
    """A principal or a program admin anywhere (or a superuser): may open the page at all."""
    if is_active_superuser(user):
        return True
    held = role_organization_ids(user)
    return bool(held.get(Role.PRINCIPAL) or held.get(Role.PROGRAM_ADMIN))


def staff_units(user: Any) -> list[Organization]:
    """The schools and districts whose staff the user may see, by name: the schools where they
    are principal, the districts where they are program admin and, for a state program admin,
    every district of the state. A principal sees their own school only, never its neighbours;
    a superuser sees every district. Cached on the user for the request (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_microcred_staff_units", None)
    if cached is not None:
        return cached
    if is_active_superuser(user):
        units = Organization.objects.filter(kind=Kind.LEA)
    else:
        held = role_organization_ids(user)
        schools = held.get(Role.PRINCIPAL, frozenset())
        admin = held.get(Role.PROGRAM_ADMIN, frozenset())
        if not schools and not admin:
            units = Organization.objects.none()
        else:
            units = Organization.objects.filter(
                Q(kind=Kind.SCHOOL, pk__in=schools)
                | Q(kind=Kind.LEA, pk__in=admin)
                | Q(kind=Kind.LEA, parent_id__in=admin, parent__kind=Kind.STATE_AGENCY)
            )
    found = list(units.filter(active=True).order_by("name", "pk"))
    user._microcred_staff_units = found
    return found


def oversees(user: Any, organization: Organization | None) -> bool:
    """The organization is one of the user's units (a school or district they may see)."""
    return isinstance(organization, Organization) and any(
        unit.pk == organization.pk for unit in staff_units(user)
    )


def schools_of(unit: Organization) -> list[Organization]:
    """The schools of a unit: the school itself, or the district's schools by name."""
    if unit.kind == Kind.SCHOOL:
        return [unit]
    return list(Organization.objects.filter(parent=unit, kind=Kind.SCHOOL).order_by("name", "pk"))


def unit_organization_ids(unit: Organization, schools: Sequence[Organization]) -> list[int]:
    """Where the unit's staff hold their earner role: the school, or the district and its
    schools (an educator may belong to the district itself)."""
    if unit.kind == Kind.SCHOOL:
        return [unit.pk]
    return [unit.pk, *(school.pk for school in schools)]


def preapprovals_waiting(unit: Organization, schools: Sequence[Organization], user: Any) -> int:
    """Pre-approval requests from the unit's schools still waiting for a decision (a person's
    own request is never theirs to decide)."""
    return (
        PreApproval.objects.filter(
            status=PreApproval.Status.PENDING,
            attempt__school_id__in=[school.pk for school in schools],
        )
        .exclude(attempt__earner_id=user.pk)
        .count()
    )


# ---------------------------------------------------------------------------- the list
@dataclass(frozen=True)
class StaffFilters:
    school: Organization | None = None
    in_progress: bool = False
    ending_soon: bool = False

    def describe(self, unit: Organization) -> str:
        """The table's caption: "Staff of Pine Elementary with a micro-credential in progress"."""
        text = f"Staff of {self.school.name if self.school else unit.name}"
        conditions = []
        if self.in_progress:
            conditions.append("with a micro-credential in progress")
        if self.ending_soon:
            conditions.append("whose license renewal ends within 12 months without enough yet")
        return " ".join([text, " and ".join(conditions)]).strip()


def _open_attempts_of(user_ref: Any) -> Q:
    """Whether the (outer) educator has an unfinished attempt, alone or on a team."""
    own = Attempt.objects.filter(
        earner_id=user_ref, purpose=Attempt.Purpose.EARNING, status__in=OPEN_STATUSES
    )
    on_team = TeamMember.objects.filter(
        user_id=user_ref,
        status=TeamMember.Status.ACTIVE,
        team__attempt__purpose=Attempt.Purpose.EARNING,
        team__attempt__status__in=OPEN_STATUSES,
    )
    return Q(Exists(own)) | Q(Exists(on_team))


def horizon(today: date) -> date:
    return renewal.add_months(today, HORIZON_MONTHS)


def staff_queryset(
    unit: Organization,
    schools: Sequence[Organization],
    filters: StaffFilters,
    today: date,
) -> QuerySet[User]:
    """The unit's educators that match the filters, by name. The renewal filter here keeps
    only those with a cycle ending within 12 months; `staff_list` then drops the renewed."""
    org_ids = (
        [filters.school.pk] if filters.school is not None else unit_organization_ids(unit, schools)
    )
    # Driven from the memberships of these few organizations (indexed), not from every user.
    earners = Membership.objects.filter(
        role=Role.EARNER, active=True, organization_id__in=org_ids
    ).values("user_id")
    educators = User.objects.filter(pk__in=earners, is_active=True)
    if filters.in_progress:
        educators = educators.filter(_open_attempts_of(OuterRef("pk")))
    if filters.ending_soon:
        cycles = RenewalCycle.objects.filter(
            license__educator_id=OuterRef("pk"), ends_on__range=(today, horizon(today))
        )
        educators = educators.filter(Exists(cycles))
    return educators.order_by("last_name", "first_name", "display_name", "email", "pk")


def renewal_standings(educator_ids: Sequence[int], today: date) -> dict[int, RenewalProgress]:
    """Each educator's progress in their current cycle (as renewal.renewal_progress picks it:
    the cycle containing today, else the one ending last, across all their licenses), for
    many educators in two queries: the cycles, then progress_of_cycles' one aggregate."""
    if not educator_ids:
        return {}
    by_educator: dict[int, list[RenewalCycle]] = defaultdict(list)
    cycles = RenewalCycle.objects.filter(license__educator_id__in=educator_ids).select_related(
        "license__state"
    )
    for cycle in cycles:
        by_educator[cycle.license.educator_id].append(cycle)
    current = {
        educator_id: cycle
        for educator_id, cycles_of in by_educator.items()
        if (cycle := renewal.pick_cycle(cycles_of, today)) is not None
    }
    progress = renewal.progress_of_cycles(list(current.values()), today)
    return {educator_id: progress[cycle.pk] for educator_id, cycle in current.items()}


def ends_soon(progress: RenewalProgress | None, today: date) -> bool:
    """The current cycle ends within 12 months and the educator has not banked enough."""
    return (
        progress is not None
        and today <= progress.cycle.ends_on <= horizon(today)
        and not progress.renewed
    )


@dataclass(frozen=True)
class StaffList:
    """The matching educators (a queryset, or a list once the renewal filter ran) and the
    renewal standings that filter already computed."""

    educators: QuerySet[User] | list[User]
    standings: dict[int, RenewalProgress] = field(default_factory=dict)


def staff_list(
    unit: Organization,
    schools: Sequence[Organization],
    filters: StaffFilters,
    today: date | None = None,
) -> StaffList:
    today = today or timezone.localdate()
    educators = staff_queryset(unit, schools, filters, today)
    if not filters.ending_soon:
        return StaffList(educators)
    candidates = list(educators)
    standings = renewal_standings([e.pk for e in candidates], today)
    return StaffList([e for e in candidates if ends_soon(standings.get(e.pk), today)], standings)


# ---------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class AttemptLine:
    title: str
    status: str
    last_activity: datetime
    team: bool
    # When the submission an assessor has not decided yet was sent (None: nothing waits).
    waiting_since: datetime | None


@dataclass
class StaffRow:
    educator: User
    schools: list[str] = field(default_factory=list)
    attempts: list[AttemptLine] = field(default_factory=list)
    credentials: int = 0
    latest_credential: str = ""
    latest_credential_on: datetime | None = None
    renewal: RenewalProgress | None = None
    renewal_ending_soon: bool = False

    @property
    def waiting(self) -> int:
        """Submissions waiting for a decision."""
        return sum(1 for line in self.attempts if line.waiting_since is not None)

    @property
    def waiting_since(self) -> datetime | None:
        dates = [line.waiting_since for line in self.attempts if line.waiting_since is not None]
        return min(dates, default=None)

    @property
    def renewal_standing(self) -> str:
        if self.renewal is None:
            return "No license on file"
        return f"{self.renewal.status}: {self.renewal.sentence}"


def _school_names(educator_ids: Sequence[int], org_ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        Membership.objects.filter(
            user_id__in=educator_ids, role=Role.EARNER, active=True, organization_id__in=org_ids
        )
        .order_by("organization__name")
        .values_list("user_id", "organization__name")
    )
    for user_id, name in rows:
        if name not in names[user_id]:
            names[user_id].append(name)
    return names


def _attempt_lines(educator_ids: Sequence[int]) -> dict[int, list[AttemptLine]]:
    """Unfinished attempts of each educator, their own and their teams', newest activity
    first: three queries (team places, attempts, waiting submissions)."""
    team_places = TeamMember.objects.filter(
        user_id__in=educator_ids,
        status=TeamMember.Status.ACTIVE,
        team__attempt__isnull=False,
    ).values_list("user_id", "team__attempt")
    members: dict[int, set[int]] = defaultdict(set)
    for user_id, attempt_id in team_places:
        members[attempt_id].add(user_id)
    attempts = list(
        Attempt.objects.filter(Q(earner_id__in=educator_ids) | Q(pk__in=list(members)))
        .filter(purpose=Attempt.Purpose.EARNING, status__in=OPEN_STATUSES)
        .select_related("version")
        .annotate(evidence_updated=Max("evidence__updated"))
    )
    waiting: dict[int, datetime] = {}
    for attempt_id, submitted_at in Submission.objects.filter(
        attempt_id__in=[a.pk for a in attempts], status__in=WAITING_STATUSES
    ).values_list("attempt_id", "submitted_at"):
        waiting[attempt_id] = max(submitted_at, waiting.get(attempt_id, submitted_at))
    wanted = set(educator_ids)
    lines: dict[int, list[AttemptLine]] = defaultdict(list)
    for attempt in attempts:
        times = [attempt.updated, attempt.evidence_updated, waiting.get(attempt.pk)]
        line = AttemptLine(
            title=attempt.version.title,
            status=attempt.get_status_display(),
            last_activity=max(t for t in times if t is not None),
            team=attempt.team_id is not None,
            waiting_since=waiting.get(attempt.pk),
        )
        for user_id in ({attempt.earner_id} | members.get(attempt.pk, set())) & wanted:
            lines[user_id].append(line)
    for user_lines in lines.values():
        user_lines.sort(key=lambda line: line.last_activity, reverse=True)
    return lines


def _credentials(educator_ids: Sequence[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Credentials each educator holds (micro-credentials and stacks; revoked ones left out),
    newest first: one query."""
    rows = (
        IssuedCredential.objects.filter(
            Q(award__earner_id__in=educator_ids) | Q(stack_award__earner_id__in=educator_ids),
            revocation__isnull=True,
        )
        .order_by("-issued_at", "-pk")
        .values_list(
            "award__earner_id",
            "stack_award__earner_id",
            "issued_at",
            "award__attempt__version__title",
            "stack_award__stack__title",
        )
    )
    held: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for award_earner, stack_earner, issued_at, mc_title, stack_title in rows:
        held[award_earner or stack_earner].append((issued_at, mc_title or stack_title or ""))
    return held


def staff_rows(
    educators: Sequence[User],
    org_ids: Sequence[int],
    today: date | None = None,
    standings: dict[int, RenewalProgress] | None = None,
) -> list[StaffRow]:
    """Rows for these educators, in their order: a fixed number of queries whatever their
    number (pass the standings the renewal filter already computed to skip two)."""
    today = today or timezone.localdate()
    ids = [educator.pk for educator in educators]
    if not ids:
        return []
    schools = _school_names(ids, org_ids)
    attempts = _attempt_lines(ids)
    held = _credentials(ids)
    if standings is None:
        standings = renewal_standings(ids, today)
    rows = []
    for educator in educators:
        credentials = held.get(educator.pk, [])
        progress = standings.get(educator.pk)
        rows.append(
            StaffRow(
                educator=educator,
                schools=schools.get(educator.pk, []),
                attempts=attempts.get(educator.pk, []),
                credentials=len(credentials),
                latest_credential=credentials[0][1] if credentials else "",
                latest_credential_on=credentials[0][0] if credentials else None,
                renewal=progress,
                renewal_ending_soon=ends_soon(progress, today),
            )
        )
    return rows


# ---------------------------------------------------------------------------- CSV
CSV_HEADER = [
    "Name",
    "Email",
    "Schools",
    "Micro-credentials in progress",
    "Submissions waiting for a decision",
    "Credentials earned",
    "Latest credential",
    "Latest credential date",
    "Renewal standing",
    "Renewal cycle ends",
    "Renewal ends within 12 months without enough",
]


def _day(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def csv_row(row: StaffRow) -> list[object]:
    in_progress = "; ".join(
        f"{line.title}{' (team)' if line.team else ''}: {line.status}, "
        f"last activity {_day(line.last_activity)}"
        for line in row.attempts
    )
    return [
        row.educator.full_name,
        row.educator.email,
        "; ".join(row.schools),
        in_progress,
        row.waiting,
        row.credentials,
        row.latest_credential,
        _day(row.latest_credential_on),
        row.renewal_standing,
        row.renewal.cycle.ends_on.isoformat() if row.renewal else "",
        "yes" if row.renewal_ending_soon else "no",
    ]


def csv_rows(
    unit: Organization,
    schools: Sequence[Organization],
    filters: StaffFilters,
    today: date | None = None,
) -> Iterator[list[object]]:
    """The same rows as the page, every page of them, read in chunks of CSV_CHUNK educators."""
    today = today or timezone.localdate()
    listing = staff_list(unit, schools, filters, today)
    educators = list(listing.educators)
    org_ids = unit_organization_ids(unit, schools)
    for start in range(0, len(educators), CSV_CHUNK):
        chunk = educators[start : start + CSV_CHUNK]
        standings = listing.standings if filters.ending_soon else None
        for row in staff_rows(chunk, org_ids, today, standings):
            yield csv_row(row)
