"""Coaching over the API (invariant 8): an earner asks a coach and shares a draft with them; a
coach reads the caseload and the shared draft's comments and comments; the earner resolves.

The same services as the coaching pages (earning/coaching.py, earning/evidence_access.py):
the same refusals in the same words; whatever is not the caller's answers 404.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import date, datetime
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from microcred.catalog.models import EvidenceRequirement
from microcred.orgs.api_auth import ApiTokenAuth

from . import coaching, evidence_access
from .api import _attempt, refusals
from .api_supports import PersonOut, _person
from .models import DraftComment, EvidenceShare

router = Router(tags=["coaching"], auth=[ApiTokenAuth(), django_auth])


# ---------------------------------------------------------------------------- schemas
class CoachingOut(Schema):
    id: int = Field(description="The coaching relationship, to end it.")
    coach: PersonOut
    earner: PersonOut
    since: datetime


class AskIn(Schema):
    coach: int = Field(description="Id of one of `available` coaches.")


class MyCoachesOut(Schema):
    current: list[CoachingOut]
    available: list[PersonOut] = Field(description="Coaches of my school or its district.")


class GoalLineOut(Schema):
    title: str
    status: str
    target_date: date | None


class AttemptLineOut(Schema):
    id: UUID
    title: str
    status: str
    shared_with_me: bool
    open_comments: int


class CoacheeOut(Schema):
    coaching: CoachingOut
    plan_sign_off: str | None
    goals: list[GoalLineOut]
    attempts: list[AttemptLineOut]


class CaseloadOut(Schema):
    size: int
    guide: int = Field(description="About one coach per this many earners.")
    coachees: list[CoacheeOut]


class ShareIn(Schema):
    coach: int


class ShareOut(Schema):
    id: int
    coach: PersonOut
    since: datetime


class CommentIn(Schema):
    body: str
    requirement: int | None = Field(None, description="An evidence requirement, or none.")


class CommentOut(Schema):
    id: int
    author: PersonOut
    requirement: int | None
    body: str
    created: datetime
    resolved: bool


# ---------------------------------------------------------------------------- helpers
def _coaching_out(relationship: object) -> CoachingOut:
    return CoachingOut(
        id=relationship.pk,  # type: ignore[attr-defined]
        coach=_person(relationship.coach),  # type: ignore[attr-defined]
        earner=_person(relationship.earner),  # type: ignore[attr-defined]
        since=relationship.created,  # type: ignore[attr-defined]
    )


def _comment_out(comment: DraftComment) -> CommentOut:
    return CommentOut(
        id=comment.pk,
        author=_person(comment.author),
        requirement=comment.requirement_id,
        body=comment.body,
        created=comment.created,
        resolved=comment.resolved_at is not None,
    )


def _share_out(share: EvidenceShare) -> ShareOut:
    return ShareOut(id=share.pk, coach=_person(share.coach), since=share.created)


# ---------------------------------------------------------------------------- earner
@router.get("/me/coaches", response=MyCoachesOut)
def my_coaches(request: HttpRequest) -> MyCoachesOut:
    """My coaches now, and the coaches I may ask."""
    return MyCoachesOut(
        current=[_coaching_out(r) for r in coaching.current_coaches(request.user)],
        available=[_person(c) for c in coaching.coaches_for(request.user)],
    )


@router.post("/me/coaches", response={200: CoachingOut, 201: CoachingOut})
def ask_coach(request: HttpRequest, payload: AskIn) -> Status[CoachingOut]:
    """Ask a coach of my school or district for coaching (200 if they already coach me)."""
    coach = coaching.coaches_for(request.user).filter(pk=payload.coach).first()
    if coach is None:
        raise Http404("There is no such coach at your school or district.")
    relationship, changed = coaching.start_coaching(request.user, coach, user=request.user)
    return Status(201 if changed else 200, _coaching_out(relationship))


@router.delete("/coaching/relationships/{coaching_id}", response={204: None})
def end_coaching(request: HttpRequest, coaching_id: int) -> Status[None]:
    """The coach or the earner ends the coaching."""
    coaching.end_coaching(coaching.relationship_for(request.user, coaching_id), user=request.user)
    return Status(204, None)


@router.get("/attempts/{attempt_id}/shares", response=list[ShareOut])
@refusals
def shares(request: HttpRequest, attempt_id: UUID) -> list[ShareOut]:
    """The coaches who see this attempt's evidence now."""
    attempt = _attempt(request, attempt_id)
    return [_share_out(s) for s in evidence_access.active_shares(attempt)]


@router.post("/attempts/{attempt_id}/shares", response={201: ShareOut})
@refusals
def share(request: HttpRequest, attempt_id: UUID, payload: ShareIn) -> Status[ShareOut]:
    """Let a coach see this attempt's draft evidence and comment on it."""
    attempt = _attempt(request, attempt_id)
    coach = evidence_access.eligible_coaches(attempt).filter(pk=payload.coach).first()
    if coach is None:
        raise Http404("There is no such coach for this attempt.")
    return Status(201, _share_out(coaching.share_with_coach(attempt, coach, user=request.user)))


@router.delete("/attempts/{attempt_id}/shares/{share_id}", response={204: None})
@refusals
def revoke(request: HttpRequest, attempt_id: UUID, share_id: int) -> Status[None]:
    """Stop sharing: the coach no longer sees the draft; their comments stay on record."""
    attempt = _attempt(request, attempt_id)
    found = evidence_access.active_shares(attempt).filter(pk=share_id).first()
    if found is None:
        raise Http404("There is no such share.")
    evidence_access.revoke_share(found, user=request.user)
    return Status(204, None)


@router.post("/coaching/comments/{comment_id}/resolve", response=CommentOut)
def resolve(request: HttpRequest, comment_id: int) -> CommentOut:
    """The earner (or a teammate) marks a coach's comment dealt with."""
    comment = coaching.comment_for_member(request.user, comment_id)
    coaching.resolve_comment(comment, user=request.user)
    comment.refresh_from_db()
    return _comment_out(comment)


# ---------------------------------------------------------------------------- coach
@router.get("/coaching/caseload", response=CaseloadOut)
def caseload(request: HttpRequest) -> CaseloadOut:
    """For a coach: each coachee's plan and attempts, which are shared, open comments."""
    if not coaching.is_coach(request.user):
        raise Http404("You are not a coach.")
    load = coaching.caseload(request.user)
    return CaseloadOut(
        size=load.size,
        guide=load.guide,
        coachees=[
            CoacheeOut(
                coaching=_coaching_out(row.relationship),
                plan_sign_off=row.plan.sign_off if row.plan else None,
                goals=[
                    GoalLineOut(title=g.title, status=g.status_label, target_date=g.target_date)
                    for g in row.goals
                ],
                attempts=[
                    AttemptLineOut(
                        id=line.attempt.uuid,
                        title=line.attempt.version.title,
                        status=line.attempt.status,
                        shared_with_me=line.shared,
                        open_comments=line.open_comments,
                    )
                    for line in row.attempts
                ],
            )
            for row in load.rows
        ],
    )


@router.get("/coaching/attempts/{attempt_id}/comments", response=list[CommentOut])
def comments(request: HttpRequest, attempt_id: UUID) -> list[CommentOut]:
    """The comments on a draft: for the coach it is shared with, or the earner and team."""
    attempt = _readable(request, attempt_id)
    return [_comment_out(c) for c in coaching.comments_on(attempt)]


@router.post(
    "/coaching/attempts/{attempt_id}/comments", response={200: CommentOut, 201: CommentOut}
)
def comment(request: HttpRequest, attempt_id: UUID, payload: CommentIn) -> Status[CommentOut]:
    """A coach the draft is shared with comments on one requirement or on the whole draft
    (200 when the same comment was already sent)."""
    attempt = coaching.shared_attempt(request.user, attempt_id)
    requirement = None
    if payload.requirement is not None:
        requirement = EvidenceRequirement.objects.filter(pk=payload.requirement).first()
        if requirement is None:
            raise Http404("There is no such part of this micro-credential's evidence.")
    found, created = coaching.add_comment(
        attempt, user=request.user, body=payload.body, requirement=requirement
    )
    return Status(201 if created else 200, _comment_out(found))


def _readable(request: HttpRequest, attempt_id: UUID) -> object:
    try:
        return coaching.shared_attempt(request.user, attempt_id)
    except Http404:
        return _attempt(request, attempt_id)
