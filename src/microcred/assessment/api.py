"""The assessor's JSON API: my assignments, one assignment (blind), submit a score, decline.

Session authentication (the signed-in browser, with its CSRF token) or a personal API token
(`Authorization: Bearer ...`, made on the user's token page). Every answer is built
from the same blind selectors as the pages: a submission code, never the earner's name, email
or organization. Another assessor's assignment answers 404, like a missing one.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.api.errors import ApiError, refusal_body
from microcred.orgs.api_auth import ApiTokenAuth

from . import selectors, services
from .models import Assignment

router = Router(tags=["assessment"], auth=[ApiTokenAuth(), django_auth])


class AssignmentRow(Schema):
    id: int
    code: str
    micro_credential: str
    resubmission: bool
    read: str
    status: str
    open: bool
    assigned_at: datetime
    due_at: datetime


class Criterion(Schema):
    id: int
    label: str
    text: str
    points: int


class Component(Schema):
    id: int
    title: str
    max_points: int
    criteria: list[Criterion]


class Band(Schema):
    label: str
    min_points: int
    max_points: int
    passing: bool


class Annotation(Schema):
    seconds: int
    note: str
    component_id: int | None


class EvidenceFile(Schema):
    label: str
    media: str
    url: str = Field(
        description="Works for a few minutes; ask again for a fresh link. "
        'Empty unless status is "ready".'
    )
    poster_url: str
    status: Literal["ready", "preparing", "unavailable"] = Field(
        description='"preparing": the copy without the details that could name the earner is '
        'being made, ask again in a few minutes; "unavailable": none could be made.'
    )
    message: str = Field(description='Why there is no link, in plain language; "" when ready.')
    annotations: list[Annotation]


class EvidencePart(Schema):
    title: str
    text: str
    files: list[EvidenceFile]


class AssignmentDetail(AssignmentRow):
    scoring: str = Field(description='"details": check details; "levels": one level each.')
    components: list[Component]
    bands: list[Band]
    evidence: list[EvidencePart]


class ComponentIn(Schema):
    component_id: int
    criteria: list[int] = Field(description="Ids of the details checked, or the one level.")
    feedback: str


class ScoreIn(Schema):
    components: list[ComponentIn]
    overall_feedback: str
    minutes_spent: int


class ScoreOut(Schema):
    total_points: int
    band: str
    passed: bool


class DeclineIn(Schema):
    reason: str = Field(max_length=200)


def _row(row: selectors.QueueRow) -> dict[str, Any]:
    return {
        "id": row.assignment_id,
        "code": row.code,
        "micro_credential": row.title,
        "resubmission": row.resubmission,
        "read": row.kind,
        "status": row.status,
        "open": row.is_open,
        "assigned_at": row.assigned_at,
        "due_at": row.due_at,
    }


def _own(request: HttpRequest, pk: int) -> Assignment:
    assignment = selectors.assignment_for(request.user, pk)
    if assignment is None:
        raise HttpError(404, "There is no such assignment in your queue.")
    return assignment


def _refusal(exc: ValidationError) -> Status:
    return Status(422, refusal_body(422, exc, code="refused"))


@router.get("/assignments", response=list[AssignmentRow], summary="My assignments")
def my_assignments(request: HttpRequest) -> list[dict[str, Any]]:
    return [_row(row) for row in selectors.assignments_of(request.user)]


@router.get("/assignments/{pk}", response=AssignmentDetail, summary="One assignment, blind")
def assignment_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    assignment = _own(request, pk)
    submission = assignment.submission
    sheet = selectors.scoring_sheet(submission.attempt.version_id)
    evidence = [
        {
            "title": part.title,
            "text": part.text,
            "files": [
                {
                    "label": f.label,
                    "media": f.media,
                    "url": f.url,
                    "poster_url": f.poster_url,
                    "status": f.status,
                    "message": f.message,
                    "annotations": [
                        {"seconds": a["seconds"], "note": a["note"], "component_id": a["component"]}
                        for a in f.annotation_data()
                    ],
                }
                for f in part.files
            ],
        }
        for part in selectors.scoring_evidence(request.user, assignment)
    ]
    return {
        **_row(selectors.queue_row(assignment)),
        "scoring": sheet.rubric.scoring,
        "components": [
            {
                "id": p.component.pk,
                "title": p.component.title,
                "max_points": p.component.max_points,
                "criteria": [
                    {"id": c.pk, "label": c.label, "text": c.text, "points": c.points}
                    for c in p.criteria
                ],
            }
            for p in sheet.components
        ],
        "bands": [
            {
                "label": b.label,
                "min_points": b.min_points,
                "max_points": b.max_points,
                "passing": b.passing,
            }
            for b in sheet.bands
        ],
        "evidence": evidence,
    }


@router.post(
    "/assignments/{pk}/score",
    response={201: ScoreOut, 403: ApiError, 422: ApiError},
    summary="Submit the score",
)
def submit_score(request: HttpRequest, pk: int, payload: ScoreIn) -> Any:
    assignment = _own(request, pk)
    # A PermissionDenied from the service is answered 403 by the API's handler (api/errors.py).
    try:
        score = services.submit_score(
            assignment,
            assessor=request.user,
            component_points={c.component_id: c.criteria for c in payload.components},
            feedback={c.component_id: c.feedback for c in payload.components},
            overall_feedback=payload.overall_feedback,
            minutes_spent=payload.minutes_spent,
        )
    except ValidationError as exc:
        return _refusal(exc)
    return Status(
        201, {"total_points": score.total_points, "band": score.band.label, "passed": score.passed}
    )


@router.post(
    "/assignments/{pk}/decline",
    response={200: AssignmentRow, 422: ApiError},
    summary="Decline an assignment",
)
def decline(request: HttpRequest, pk: int, payload: DeclineIn) -> Any:
    assignment = _own(request, pk)
    try:
        services.decline(assignment, assessor=request.user, reason=payload.reason)
    except ValidationError as exc:
        return _refusal(exc)
    assignment.refresh_from_db()
    return Status(200, _row(selectors.queue_row(assignment)))
