"""The earner's supports over the API (invariant 8): the learning plan and its goals, sending it
for sign-off, the principal's decision, self-assessments, and team invitations by email.

The same services as the pages (earning/supports.py, earning/teams.py), so both refuse the
same things with the same words. Someone else's goal, plan or attempt answers 404.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import date
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.catalog.models import MicroCredential, Stack
from microcred.orgs.api_auth import ApiTokenAuth

from . import supports, teams
from .api import _attempt, refusals
from .models import LearningPlan, TeamMember

router = Router(tags=["earning"], auth=[ApiTokenAuth(), django_auth])


# ---------------------------------------------------------------------------- schemas
class GoalOut(Schema):
    id: int
    title: str = Field(description="The MC's or stack's title, or the goal in own words.")
    micro_credential: str | None = Field(
        None, description="The MC's slug, when the goal names one."
    )
    stack: str | None = Field(None, description="The stack's slug, when the goal names one.")
    text: str
    target_date: date | None
    status: str = Field(description="planned, in_progress or done.")
    status_label: str
    derived: bool = Field(description="True when the status follows attempts and credentials.")
    overdue: bool


class PersonOut(Schema):
    id: int
    name: str


class PlanOut(Schema):
    sign_off: str = Field(description="not_sent, waiting, signed_off or returned.")
    sign_off_label: str
    principal: PersonOut | None
    comment: str = Field(description="The principal's comment when the plan was returned.")
    goals: list[GoalOut]
    principals: list[PersonOut] = Field(description="Whom the plan may be sent to.")


class GoalIn(Schema):
    micro_credential: str | None = Field(None, description="Slug of a published MC.")
    stack: str | None = Field(None, description="Slug of a published stack.")
    text: str = ""
    target_date: date | None = None
    status: str = "planned"


class GoalChangeIn(Schema):
    text: str = ""
    target_date: date | None = None
    status: str = "planned"


class SendIn(Schema):
    principal: int = Field(description="Id of one of the plan's `principals`.")


class PlanDecisionIn(Schema):
    sign_off: bool
    comment: str = ""


class PlanToSignOffOut(Schema):
    id: int
    earner: PersonOut
    sign_off: str
    sent_at: str | None
    goals: list[GoalOut]


class RatingOut(Schema):
    component: int
    title: str
    confidence: str = Field(description="not_yet, getting_there, confident, or '' if not rated.")
    note: str


class SelfAssessmentOut(Schema):
    version: int
    micro_credential: str
    locked: bool = Field(description="True once the earner has submitted on this version.")
    ratings: list[RatingOut]


class RatingIn(Schema):
    component: int
    confidence: str
    note: str = ""


class SelfAssessmentIn(Schema):
    ratings: list[RatingIn]


class InvitationIn(Schema):
    email: str


class InvitationOut(Schema):
    kind: Literal["member", "email"] = Field(
        description="member: the address belongs to an account, invited on the team; "
        "email: no account yet, a sign-up link was emailed."
    )
    id: int
    email: str


# ---------------------------------------------------------------------------- helpers
def _person(user: object | None) -> PersonOut | None:
    if user is None:
        return None
    name = user.get_full_name() or user.email  # type: ignore[attr-defined]
    return PersonOut(id=user.pk, name=name)  # type: ignore[attr-defined]


def _goal_out(view: supports.GoalView) -> GoalOut:
    goal = view.goal
    return GoalOut(
        id=goal.pk,
        title=view.title or goal.text,
        micro_credential=goal.micro_credential.slug if goal.micro_credential_id else None,
        stack=goal.stack.slug if goal.stack_id else None,
        text=goal.text,
        target_date=goal.target_date,
        status=view.status,
        status_label=view.status_label,
        derived=view.derived,
        overdue=view.overdue,
    )


def _plan_out(user: object) -> PlanOut:
    view = supports.plan_view(user)
    plan = view.plan
    state = plan.sign_off if plan else LearningPlan.SignOff.NOT_SENT
    return PlanOut(
        sign_off=state,
        sign_off_label=LearningPlan.SignOff(state).label,
        principal=_person(plan.principal) if plan else None,
        comment=plan.comment if plan else "",
        goals=[_goal_out(g) for g in view.goals],
        principals=[p for p in map(_person, view.principals) if p is not None],
    )


def _catalog_choice(
    slug: str | None, queryset: object, what: str
) -> MicroCredential | Stack | None:
    if not slug:
        return None
    found = queryset.filter(slug=slug).first()  # type: ignore[attr-defined]
    if found is None:
        raise HttpError(400, f"There is no published {what} with the slug “{slug}”.")
    return found


def _self_assessment_out(user: object, version_pk: int) -> SelfAssessmentOut:
    version = supports.self_assessable_version(user, version_pk)
    view = supports.self_assessment_view(user, version)
    return SelfAssessmentOut(
        version=version.pk,
        micro_credential=version.micro_credential.slug,
        locked=view.locked,
        ratings=[
            RatingOut(
                component=row.component.pk,
                title=row.component.title,
                confidence=row.confidence,
                note=row.note,
            )
            for row in view.rows
        ],
    )


# ---------------------------------------------------------------------------- plan
@router.get("/me/plan", response=PlanOut)
def my_plan(request: HttpRequest) -> PlanOut:
    """My learning plan: goals with their status, sign-off state, and whom I may send it to."""
    return _plan_out(request.user)


@router.post("/me/plan/goals", response={201: GoalOut})
def add_goal(request: HttpRequest, payload: GoalIn) -> Status[GoalOut]:
    """Add a goal naming a published MC or stack (by slug), or in my own words."""
    goal = supports.add_goal(
        request.user,
        micro_credential=_catalog_choice(
            payload.micro_credential,
            supports.published_micro_credentials(),
            "micro-credential",
        ),
        stack=_catalog_choice(payload.stack, supports.published_stacks(), "stack"),
        text=payload.text,
        target_date=payload.target_date,
        status=payload.status,
    )
    view = next(g for g in supports.goal_views(request.user, goal.plan) if g.goal.pk == goal.pk)
    return Status(201, _goal_out(view))


@router.patch("/me/plan/goals/{goal_id}", response=GoalOut)
def change_goal(request: HttpRequest, goal_id: int, payload: GoalChangeIn) -> GoalOut:
    """Change a goal's words, target date and (for a goal in my own words) its status."""
    goal = supports.update_goal(
        request.user,
        supports.goal_of(request.user, goal_id),
        text=payload.text,
        target_date=payload.target_date,
        status=payload.status,
    )
    view = next(g for g in supports.goal_views(request.user, goal.plan) if g.goal.pk == goal.pk)
    return _goal_out(view)


@router.delete("/me/plan/goals/{goal_id}", response={204: None})
def remove_goal(request: HttpRequest, goal_id: int) -> Status[None]:
    supports.remove_goal(request.user, supports.goal_of(request.user, goal_id))
    return Status(204, None)


@router.post("/me/plan/send", response=PlanOut)
def send_plan(request: HttpRequest, payload: SendIn) -> PlanOut:
    """Send my plan to a principal of my school for sign-off."""
    supports.send_for_sign_off(request.user, payload.principal)
    return _plan_out(request.user)


@router.get("/plans/to-sign-off", response=list[PlanToSignOffOut])
def plans_to_sign_off(request: HttpRequest) -> list[PlanToSignOffOut]:
    """For a principal: the plans sent to me and waiting, oldest first."""
    return [_plan_to_sign_off_out(plan) for plan in supports.plans_to_sign_off(request.user)]


def _plan_to_sign_off_out(plan: LearningPlan) -> PlanToSignOffOut:
    earner = _person(plan.earner)
    assert earner is not None
    return PlanToSignOffOut(
        id=plan.pk,
        earner=earner,
        sign_off=plan.sign_off,
        sent_at=plan.sent_at.isoformat() if plan.sent_at else None,
        goals=[_goal_out(g) for g in supports.goal_views(plan.earner, plan)],
    )


@router.post("/plans/{plan_id}/decision", response=PlanToSignOffOut)
def decide_plan(request: HttpRequest, plan_id: int, payload: PlanDecisionIn) -> PlanToSignOffOut:
    """For the principal the plan was sent to: sign it off, or return it with a comment."""
    plan = supports.plan_for_principal(request.user, plan_id)
    plan = supports.decide_plan(
        request.user, plan, sign_off=payload.sign_off, comment=payload.comment
    )
    return _plan_to_sign_off_out(plan)


# ---------------------------------------------------------------------------- self-assessment
@router.get("/self-assessments/{version_id}", response=SelfAssessmentOut)
def self_assessment(request: HttpRequest, version_id: int) -> SelfAssessmentOut:
    """My self-assessment against an MC version's rubric components (unrated ones included)."""
    return _self_assessment_out(request.user, version_id)


@router.put("/self-assessments/{version_id}", response=SelfAssessmentOut)
def save_self_assessment(
    request: HttpRequest, version_id: int, payload: SelfAssessmentIn
) -> SelfAssessmentOut:
    """Rate myself on every rubric component of the version (all or nothing)."""
    version = supports.self_assessable_version(request.user, version_id)
    ratings = {r.component: (r.confidence, r.note) for r in payload.ratings}
    supports.save_self_assessment(request.user, version, ratings)
    return _self_assessment_out(request.user, version_id)


# ---------------------------------------------------------------------------- team invitations
@router.post("/attempts/{attempt_id}/team/invitations", response={201: InvitationOut})
@refusals
def invite(request: HttpRequest, attempt_id: UUID, payload: InvitationIn) -> Status[InvitationOut]:
    """Invite an earner to the attempt's team by email, in or outside my school and district.
    Someone without an account is emailed a sign-up link."""
    attempt = _attempt(request, attempt_id)
    sent = teams.invite_by_email(attempt, user=request.user, email=payload.email)
    if isinstance(sent, TeamMember):
        return Status(201, InvitationOut(kind="member", id=sent.pk, email=sent.user.email))
    return Status(201, InvitationOut(kind="email", id=sent.pk, email=sent.email))


@router.delete(
    "/attempts/{attempt_id}/team/invitations/{kind}/{invitation_id}", response={204: None}
)
@refusals
def withdraw_invitation(
    request: HttpRequest, attempt_id: UUID, kind: Literal["member", "email"], invitation_id: int
) -> Status[None]:
    """Withdraw an invitation that is not yet accepted (`kind` as returned by the invite)."""
    attempt = _attempt(request, attempt_id)
    if kind == "email":
        teams.withdraw_invitation(attempt, user=request.user, invitation_id=invitation_id)
    else:
        teams.withdraw_member_invitation(attempt, user=request.user, member_id=invitation_id)
    return Status(204, None)
