"""The assessor's standing through the API, as on their pages (invariant 8): qualifications,
calibration sets they may start, rounds and their results, their own pay and agreement; and
for scoring leads, planning the backlog. Mounted beside the scoring API at /assessment/."""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.api.errors import refusal_body
from microcred.orgs.api_auth import ApiTokenAuth

from . import anchors, monitoring, pay, selectors, services
from .models import AssessorProfile, CalibrationSet

router = Router(tags=["assessment"], auth=[ApiTokenAuth(), django_auth])


class QualificationOut(Schema):
    micro_credential: str
    status: str
    source: str
    qualified_at: datetime
    recalibrate_by: datetime


class CalibrationSetOut(Schema):
    id: int
    title: str
    micro_credential: str


class RoundIn(Schema):
    calibration_set_id: int


class RoundOut(Schema):
    id: int
    calibration_set: str
    anchors: int
    scored: int
    finished: bool
    passed: bool | None
    outcome_percent: int | None
    component_percent: int | None
    outcome_threshold: int
    component_threshold: int


class PayOut(Schema):
    month: str
    reads: int
    minutes: int
    hours: Decimal
    amount: Decimal


class StatisticOut(Schema):
    name: str
    value: float | None
    pairs: int
    threshold: float | None
    summary: str


class AgreementOut(Schema):
    micro_credential: str
    statistics: list[StatisticOut]


class PlanOut(Schema):
    assigned: int
    moved: int
    waiting: int


def _profile(request: HttpRequest) -> AssessorProfile:
    profile = selectors.profile_of(request.user)
    if profile is None:
        raise HttpError(404, "You are not in the assessor pool yet: a scoring lead adds you.")
    return profile


def _round(result: anchors.RoundResult) -> dict[str, Any]:
    calibration_round = result.calibration_round
    return {
        "id": calibration_round.pk,
        "calibration_set": result.title,
        "anchors": result.anchors,
        "scored": result.scored,
        "finished": calibration_round.finished_at is not None,
        "passed": calibration_round.passed,
        "outcome_percent": result.outcome_percent,
        "component_percent": result.component_percent,
        "outcome_threshold": result.outcome_threshold,
        "component_threshold": result.component_threshold,
    }


@router.get("/qualifications", response=list[QualificationOut], summary="My qualifications")
def my_qualifications(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "micro_credential": q.title,
            "status": q.status,
            "source": q.source,
            "qualified_at": q.qualified_at,
            "recalibrate_by": q.recalibrate_by,
        }
        for q in anchors.qualifications_of(_profile(request))
    ]


@router.get(
    "/calibration-sets", response=list[CalibrationSetOut], summary="Sets I may calibrate on now"
)
def my_calibration_sets(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": s.pk, "title": s.title, "micro_credential": s.version.title}
        for s in anchors.sets_to_start(_profile(request))
    ]


@router.post(
    "/calibration-rounds",
    response={201: RoundOut, 422: Any},
    summary="Start a calibration round: its anchors join my assignments",
)
def start_round(request: HttpRequest, payload: RoundIn) -> Any:
    profile = _profile(request)
    chosen = CalibrationSet.objects.filter(pk=payload.calibration_set_id).first()
    try:
        started = anchors.start_round(profile, chosen, actor=request.user)
    except ValidationError as exc:
        return Status(422, refusal_body(422, exc, code="refused"))
    return Status(201, _round(anchors.round_result(started)))


@router.get("/calibration-rounds/{pk}", response=RoundOut, summary="One of my rounds")
def my_round(request: HttpRequest, pk: int) -> dict[str, Any]:
    found = anchors.round_for(request.user, pk)
    if found is None:
        raise HttpError(404, "There is no such calibration round of yours.")
    return _round(anchors.round_result(found))


@router.get("/pay", response=PayOut, summary="My pay for a month (?month=2026-11)")
def my_pay(request: HttpRequest, month: str = "") -> dict[str, Any]:
    chosen, problem = pay.parse_month(month or None)
    if problem and month:
        raise HttpError(400, problem)
    totals = pay.own_pay(_profile(request), chosen)
    return {
        "month": chosen.value,
        "reads": totals.reads,
        "minutes": totals.minutes,
        "hours": totals.hours,
        "amount": totals.amount,
    }


@router.get("/agreement", response=list[AgreementOut], summary="My scoring agreement")
def my_agreement(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "micro_credential": report.title,
            "statistics": [
                {
                    "name": s.name,
                    "value": s.value,
                    "pairs": s.pairs,
                    "threshold": s.threshold,
                    "summary": s.summary,
                }
                for s in report.overall.statistics
            ],
        }
        for report in monitoring.assessor_reports(_profile(request))
    ]


@router.post("/plan", response=PlanOut, summary="Plan the whole backlog now (scoring leads)")
def plan(request: HttpRequest) -> dict[str, int]:
    if not request.user.has_perm("assessment.view_unassigned"):
        raise PermissionDenied
    result = services.plan_backlog(actor=request.user)
    return {
        "assigned": len(result.assigned),
        "moved": result.moved,
        "waiting": len(result.unassigned),
    }
