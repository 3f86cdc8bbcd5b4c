"""Roll-out settings over the API (invariant 8): the districts a program office sees with their
stage, and one district's settings, read and changed through orgs.programs like the pages.

A change names the `updated` stamp it read (like an ETag): a stamp that no longer matches is
refused with 409, so a script never overwrites a change it has not seen.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.api.errors import ApiHttpError
from microcred.catalog.models import MicroCredential

from . import programs
from .api_auth import ApiTokenAuth
from .models import LeaProgram, Organization

router = Router(tags=["programs"], auth=[ApiTokenAuth(), django_auth])


class ProgramRowOut(Schema):
    district: str = Field(description="The district's slug.")
    name: str
    stage: str
    pilot_schools: int
    funded_micro_credentials: int
    requires_preapproval: bool


class ProgramOut(Schema):
    district: str
    stage: str = Field(description=f"One of: {', '.join(LeaProgram.Stage.values)}.")
    pilot_schools: list[str] = Field(description="Slugs of the pilot cohort's schools.")
    funded_micro_credentials: list[str] = Field(description="Slugs of the funded MCs.")
    requires_preapproval: bool
    updated: str = Field(description="Send it back with a change; empty if never set.")


class ProgramIn(Schema):
    stage: str
    pilot_schools: list[str] = []
    funded_micro_credentials: list[str] = []
    requires_preapproval: bool = False
    updated: str = Field(description="The `updated` of the settings this change starts from.")


def _district(request: HttpRequest, slug: str) -> Organization:
    lea = Organization.objects.filter(slug=slug, kind=Organization.Kind.LEA).first()
    if lea is None or not request.user.has_perm("orgs.manage_program", lea):
        raise Http404("There is no such district among those you run.")
    return lea


def _out(lea: Organization) -> ProgramOut:
    program = programs.program_for(lea)
    settings = programs.settings_of(program)
    return ProgramOut(
        district=lea.slug,
        stage=settings.stage,
        pilot_schools=sorted(
            Organization.objects.filter(pk__in=settings.pilot_school_ids).values_list(
                "slug", flat=True
            )
        ),
        funded_micro_credentials=sorted(
            MicroCredential.objects.filter(pk__in=settings.funded_ids).values_list(
                "slug", flat=True
            )
        ),
        requires_preapproval=settings.requires_preapproval,
        updated=programs.stamp_of(program),
    )


def _ids(model: type, slugs: list[str], what: str, **scope: object) -> frozenset[int]:
    found = dict(model.objects.filter(slug__in=slugs, **scope).values_list("slug", "pk"))  # type: ignore[attr-defined]
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise HttpError(400, f"Unknown {what}: {', '.join(unknown)}.")
    return frozenset(found.values())


@router.get("", response=list[ProgramRowOut])
def districts(request: HttpRequest) -> list[ProgramRowOut]:
    """The districts whose roll-out I may see: the whole state for its program office."""
    if not request.user.has_perm("orgs.view_programs"):
        raise HttpError(
            403, "The roll-out settings are for the state's and districts' program staff."
        )
    overview = programs.overview(programs.program_leas(request.user), programs.ProgramFilters())
    return [
        ProgramRowOut(
            district=row.lea.slug,
            name=row.lea.name,
            stage=row.stage,
            pilot_schools=row.pilot_schools,
            funded_micro_credentials=row.funded,
            requires_preapproval=row.requires_preapproval,
        )
        for row in overview.rows
    ]


@router.get("/{slug}", response=ProgramOut)
def district(request: HttpRequest, slug: str) -> ProgramOut:
    return _out(_district(request, slug))


@router.put("/{slug}", response=ProgramOut)
def change(request: HttpRequest, slug: str, payload: ProgramIn) -> ProgramOut:
    """Replace the district's settings (every field); the same settings again change nothing."""
    lea = _district(request, slug)
    wanted = programs.ProgramSettings(
        stage=payload.stage,
        # Schools of any district are looked up, so a school elsewhere gets the service's
        # own words ("not a school of this district"), not "unknown".
        pilot_school_ids=_ids(
            Organization, payload.pilot_schools, "schools", kind=Organization.Kind.SCHOOL
        ),
        funded_ids=_ids(MicroCredential, payload.funded_micro_credentials, "micro-credentials"),
        requires_preapproval=payload.requires_preapproval,
    )
    try:
        programs.save_program(request.user, lea, wanted, seen=payload.updated)
    except programs.AlreadyChanged as exc:
        raise ApiHttpError(409, exc.messages[0], code="changed_since_read") from exc
    return _out(lea)
