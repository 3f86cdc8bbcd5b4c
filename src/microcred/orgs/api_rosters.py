"""OneRoster rosters over the API (invariant 8): the dry run, the import and the export, through
the same services as the import page (services.preview_import / run_import, kind oneroster).

A roster with problems is refused with 400 and every problem under its "file, row, column";
nothing is written. Importing the same zip twice changes nothing the second time.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, Router, Schema, UploadedFile
from ninja.errors import HttpError
from ninja.security import django_auth

from . import imports, oneroster, oneroster_export, services
from .api_auth import ApiTokenAuth
from .models import Organization

router = Router(tags=["Rosters"], auth=[ApiTokenAuth(), django_auth])
KIND = imports.ImportKind.ONEROSTER


class CountOut(Schema):
    label: str
    count: int


class RowOut(Schema):
    file: str
    row: int
    sourced_id: str
    action: str
    label: str
    detail: str


class RosterPlanOut(Schema):
    valid: bool
    summary: list[CountOut]
    counts: dict[str, int]
    changes: list[RowOut]


def _where(problem: imports.Problem) -> str:
    return ", ".join(
        part
        for part in (problem.file, f"row {problem.row}" if problem.row else "", problem.column)
        if part
    )


def _read(file: UploadedFile) -> str:
    if file.size and file.size > imports.MAX_BYTES:
        raise HttpError(413, "The file is larger than 2 MB. Split it into smaller files.")
    text, problems = oneroster.encode_upload(file.read(imports.MAX_BYTES + 1))
    if problems:
        raise ValidationError({"file": [problem.message for problem in problems]})
    return text


def _refuse(plan: imports.ImportPlan) -> ValidationError:
    errors: dict[str, list[str]] = {}
    for problem in plan.problems:
        errors.setdefault(_where(problem) or "file", []).append(problem.message)
    return ValidationError(errors)


def _out(plan: imports.ImportPlan) -> RosterPlanOut:
    return RosterPlanOut(
        valid=plan.is_valid,
        summary=[CountOut(label=label, count=count) for label, count in plan.summary()],
        counts=dict(plan.counts),
        changes=[
            RowOut(
                file=getattr(row, "file", ""),
                row=row.row,
                sourced_id=row.values.get("sourcedId", ""),
                action=row.action,
                label=row.action_label,
                detail=row.detail,
            )
            for row in plan.rows_to_change
        ],
    )


@router.post("/dry-run", response=RosterPlanOut)
def dry_run(request: HttpRequest, file: UploadedFile = File(...)) -> RosterPlanOut:  # noqa: B008
    """What importing this OneRoster 1.2 CSV zip would do, and its problems: nothing is saved.
    `valid` says whether it can be imported as it is."""
    plan = services.preview_import(request.user, KIND, _read(file))
    if plan.file_problems:
        raise _refuse(plan)
    return _out(plan)


@router.post("/import", response=RosterPlanOut)
def run(request: HttpRequest, file: UploadedFile = File(...)) -> RosterPlanOut:  # noqa: B008
    """Import the roster: everything or, when it has any problem, nothing (400)."""
    try:
        plan = services.run_import(request.user, KIND, _read(file), filename=file.name or "")
    except services.ImportRejected as exc:
        raise _refuse(exc.plan) from exc
    return _out(plan)


@router.get("/export/{slug}", response={200: None})
def export(request: HttpRequest, slug: str) -> HttpResponse:
    """The district's roster, as imported and as microcred has it now, as a OneRoster 1.2 CSV
    zip."""
    district = Organization.objects.filter(slug=slug, kind=Organization.Kind.LEA).first()
    if district is None or not request.user.has_perm("orgs.import_people", district):
        raise Http404("There is no such district among those you manage.")
    response = HttpResponse(
        oneroster_export.export_zip(request.user, district), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="oneroster-{district.slug}.zip"'
    return response
