"""The roll-out of the program, district by district: reads and the one write.

Each LEA has at most one `LeaProgram` (none means "not started"). Other apps ask this module,
and only this module, what a district's settings mean for an earner: whether a start must wait
for the principal's pre-approval (`requires_preapproval`), whether a pilot keeps the earner's
school out for now (`start_refusal`), and which districts fund a micro-credential
(`funding_leas`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from microcred.catalog.models import MicroCredential, MicroCredentialVersion

from . import selectors
from .models import LeaProgram, Membership, Organization, Role
from .services import record_audit

Kind = Organization.Kind
Stage = LeaProgram.Stage


# ---------------------------------------------------------------------------- for other apps
def _lea_id(organization: Organization | None) -> int | None:
    if organization is None:
        return None
    if organization.kind == Kind.LEA:
        return organization.pk
    if organization.kind == Kind.SCHOOL:
        return organization.parent_id
    return None


def program_for(organization: Organization | None) -> LeaProgram | None:
    """The program settings of the district a school (or the district itself) belongs to;
    None where the district has none yet, which means: not started, no conditions."""
    lea_id = _lea_id(organization)
    if lea_id is None:
        return None
    return LeaProgram.objects.filter(lea_id=lea_id).select_related("lea").first()


def requires_preapproval(school: Organization | None) -> bool:
    """Whether every start by an earner of this school waits for the principal's approval."""
    program = program_for(school)
    return bool(program and program.requires_preapproval)


def program_contacts(lea: Organization) -> list[str]:
    """Names of the district's program staff: whom an earner should ask about the program."""
    members = (
        Membership.objects.filter(organization=lea, role=Role.PROGRAM_ADMIN, active=True)
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )
    return [m.user.name for m in members]


def start_refusal(school: Organization | None) -> str | None:
    """Why an earner of this school may not start a micro-credential now, or None if they may.
    Only a pilot limits starts: to the schools of its cohort."""
    program = program_for(school)
    if program is None or school is None or program.stage != Stage.PILOT:
        return None
    if program.pilot_schools.filter(pk=school.pk).exists():
        return None
    contacts = program_contacts(program.lea)
    who = "your district's program office" + (f" ({', '.join(contacts)})" if contacts else "")
    return (
        f"{program.lea.name} is trying micro-credentials in a few pilot schools first, and "
        f"{school.name} is not one of them yet, so you cannot start one now. You can still "
        f"browse the catalog. To take part, ask {who} whether your school can join the pilot."
    )


def funding_leas(user: Any, micro_credential: MicroCredential) -> list[Organization]:
    """The districts the user earns in (at the district or one of its schools) that fund
    this micro-credential."""
    earner_orgs = selectors.role_organization_ids(user).get(Role.EARNER, frozenset())
    if not earner_orgs:
        return []
    return list(
        Organization.objects.filter(
            kind=Kind.LEA, program__funded_micro_credentials=micro_credential
        )
        .filter(Q(pk__in=earner_orgs) | Q(children__pk__in=earner_orgs))
        .distinct()
        .order_by("name")
    )


# ---------------------------------------------------------------------------- the state view
def program_leas(user: Any) -> QuerySet[Organization]:
    """The active districts whose program the user may see: every one for a superuser, those
    of their state for a state program admin, their own for a district program admin."""
    return selectors.manageable_organizations(user).filter(kind=Kind.LEA, active=True)


def sees_whole_state(user: Any) -> bool:
    return selectors.is_active_superuser(user) or selectors.is_state_admin(user)


@dataclass(frozen=True)
class ProgramFilters:
    stage: str = ""
    region: str = ""
    locale: str = ""
    low_wealth: bool | None = None

    @property
    def any(self) -> bool:
        return self != ProgramFilters()


@dataclass(frozen=True)
class ProgramRow:
    lea: Organization
    stage: str
    pilot_schools: int
    funded: int
    requires_preapproval: bool

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)


def _count_of(through: Any, column: str) -> Subquery:
    """How many links the district's program has in an M2M table: a subquery per row, so
    counting schools and micro-credentials together never multiplies the two."""
    counted = (
        through.objects.filter(leaprogram__lea_id=OuterRef("pk"))
        .values("leaprogram_id")
        .annotate(n=Count(column))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def program_rows(leas: QuerySet[Organization], filters: ProgramFilters) -> list[ProgramRow]:
    """One row per district, in name order; one query. The stage filter is left to
    `overview`, which counts the same rows across every stage."""
    qs = leas
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.locale:
        qs = qs.filter(locale=filters.locale)
    if filters.low_wealth is not None:
        qs = qs.filter(low_wealth=filters.low_wealth)
    qs = qs.annotate(
        program_stage=Coalesce("program__stage", Value(Stage.NOT_STARTED.value)),
        pilot_count=Coalesce(_count_of(LeaProgram.pilot_schools.through, "organization_id"), 0),
        funded_count=Coalesce(
            _count_of(LeaProgram.funded_micro_credentials.through, "microcredential_id"), 0
        ),
        preapproval=Coalesce("program__requires_preapproval", Value(False)),
    ).order_by("name")
    return [
        ProgramRow(lea, lea.program_stage, lea.pilot_count, lea.funded_count, lea.preapproval)
        for lea in qs
    ]


def stage_counts(rows: list[ProgramRow]) -> list[tuple[str, str, int]]:
    """(stage, label, number of districts) for every stage, in roll-out order, zeros included."""
    counts = {stage: 0 for stage in Stage.values}
    for row in rows:
        counts[row.stage] += 1
    return [(stage, str(Stage(stage).label), n) for stage, n in counts.items()]


def stage_chart(counts: list[tuple[str, str, int]], title: str) -> dict[str, Any]:
    """The shared chart contract (insights/charts.js) for the districts-by-stage bar chart."""
    return {
        "type": "bar",
        "title": title,
        "labels": [label for _, label, _ in counts],
        "datasets": [{"label": "Districts", "data": [n for _, _, n in counts]}],
        "unit": "",
    }


@dataclass(frozen=True)
class Overview:
    rows: list[ProgramRow]  # the districts the filters keep, stage included
    counts: list[tuple[str, str, int]]  # per stage, over the districts the other filters keep
    chart: dict[str, Any]


def overview(leas: QuerySet[Organization], filters: ProgramFilters) -> Overview:
    """The state view: which districts are at which stage. The counts and the chart ignore
    the stage filter, so that picking one stage still shows where the others stand."""
    rows = program_rows(leas, filters)
    counts = stage_counts(rows)
    shown = [row for row in rows if row.stage == filters.stage] if filters.stage else rows
    return Overview(shown, counts, stage_chart(counts, "Districts by roll-out stage"))


def regions_of(leas: QuerySet[Organization]) -> list[str]:
    return sorted(set(leas.exclude(region="").values_list("region", flat=True)))


# ---------------------------------------------------------------------------- one district
def schools_of(lea: Organization) -> QuerySet[Organization]:
    """The schools that may be in the district's pilot cohort."""
    return Organization.objects.filter(parent=lea, kind=Kind.SCHOOL).order_by("name")


def fundable_micro_credentials(program: LeaProgram | None) -> QuerySet[MicroCredential]:
    """Micro-credentials in the catalog now, plus any the district already funds (a retired
    one stays listed so that saving the form does not silently drop it)."""
    funded = Q(funding_programs=program) if program is not None else Q(pk__in=[])
    return (
        MicroCredential.objects.filter(
            Q(versions__status=MicroCredentialVersion.Status.PUBLISHED) | funded
        )
        .distinct()
        .order_by("slug")
    )


def titles_of(micro_credentials: QuerySet[MicroCredential]) -> dict[int, str]:
    """The title each micro-credential shows: its newest version's."""
    titles: dict[int, str] = {}
    rows = (
        MicroCredentialVersion.objects.filter(micro_credential__in=micro_credentials)
        .exclude(status__in=MicroCredentialVersion.EDITABLE)
        .order_by("micro_credential_id", "number")
        .values_list("micro_credential_id", "title")
    )
    for mc_id, title in rows:
        titles[mc_id] = title  # the highest number wins
    return titles


@dataclass(frozen=True)
class ProgramSettings:
    stage: str = Stage.NOT_STARTED.value
    pilot_school_ids: frozenset[int] = frozenset()
    funded_ids: frozenset[int] = frozenset()
    requires_preapproval: bool = False


def settings_of(program: LeaProgram | None) -> ProgramSettings:
    if program is None:
        return ProgramSettings()
    return ProgramSettings(
        stage=program.stage,
        pilot_school_ids=frozenset(program.pilot_schools.values_list("pk", flat=True)),
        funded_ids=frozenset(program.funded_micro_credentials.values_list("pk", flat=True)),
        requires_preapproval=program.requires_preapproval,
    )


def stamp_of(program: LeaProgram | None) -> str:
    """What the edit form carries to tell whether the settings changed since it was opened."""
    return program.updated.isoformat() if program is not None else ""


def _for_audit(settings: ProgramSettings) -> dict[str, Any]:
    """Settings as the audit log keeps them: slugs, which stay readable after a rename."""
    schools = Organization.objects.filter(pk__in=settings.pilot_school_ids)
    funded = MicroCredential.objects.filter(pk__in=settings.funded_ids)
    return {
        "stage": settings.stage,
        "pilot_schools": sorted(schools.values_list("slug", flat=True)),
        "funded_micro_credentials": sorted(funded.values_list("slug", flat=True)),
        "requires_preapproval": settings.requires_preapproval,
    }


def _check(lea: Organization, new: ProgramSettings, before: ProgramSettings) -> None:
    """Every problem at once, each on the field it concerns."""
    errors: dict[str, list[str]] = {}
    if new.stage not in Stage.values:
        errors["stage"] = ["Choose one of the stages listed."]
    school_ids = set(
        schools_of(lea).filter(pk__in=new.pilot_school_ids).values_list("pk", flat=True)
    )
    if school_ids != set(new.pilot_school_ids):
        errors["pilot_schools"] = [f"Only schools of {lea.name} can be in its pilot cohort."]
    elif new.stage == Stage.PILOT and not new.pilot_school_ids:
        errors["pilot_schools"] = [
            "Choose at least one school for the pilot: during the pilot, only educators of "
            "these schools can start a micro-credential."
        ]
    elif new.stage != Stage.PILOT and new.pilot_school_ids:
        errors["pilot_schools"] = [
            "A pilot cohort applies only in the pilot stage, where it decides who may start. "
            "Clear every school, or choose the stage “Pilot”."
        ]
    added = set(new.funded_ids) - set(before.funded_ids)
    in_catalog = set(
        MicroCredential.objects.filter(
            pk__in=added, versions__status=MicroCredentialVersion.Status.PUBLISHED
        ).values_list("pk", flat=True)
    )
    if added - in_catalog:
        errors["funded"] = ["A district can fund only micro-credentials in the catalog now."]
    if errors:
        raise ValidationError(errors)


class AlreadyChanged(ValidationError):
    """The settings changed since the form was opened (another admin, another tab)."""


@transaction.atomic
def save_program(actor: Any, lea: Organization, new: ProgramSettings, *, seen: str) -> bool:
    """Save the district's settings; returns False when they already were these (a form posted
    twice changes nothing and records nothing). `seen` is the `stamp_of` the form was opened
    with: a different stamp means someone changed the settings in between, and their change
    is not overwritten unseen."""
    if not selectors.can_manage_organization(actor, lea):
        raise PermissionDenied("You cannot change the program of this district.")
    # Lock the district: two admins saving at once take turns, and the second sees the first.
    lea = Organization.objects.select_for_update().get(pk=lea.pk)
    if lea.kind != Kind.LEA:
        raise ValidationError("Program settings belong to a district (LEA).")
    program = LeaProgram.objects.filter(lea=lea).first()
    before = settings_of(program)
    if new == before:
        return False
    if seen != stamp_of(program):
        who = program.updated_by.name if program and program.updated_by else "Someone"
        raise AlreadyChanged(
            f"{who} changed these settings after you opened this page. Here they are as they "
            "are now: check them and make your change again."
        )
    _check(lea, new, before)
    if program is None:
        program = LeaProgram(lea=lea)
    program.stage = new.stage
    program.requires_preapproval = new.requires_preapproval
    program.updated_by = actor
    program.save()
    program.pilot_schools.set(new.pilot_school_ids)
    program.funded_micro_credentials.set(new.funded_ids)
    record_audit(
        actor,
        "program.updated",
        program,
        organization=lea,
        data={"before": _for_audit(before), "after": _for_audit(new)},
    )
    return True
