"""Coaching pages: the coach's caseload and coachees, the earner's coach, a principal assigning
one, and the coach's read-only view of a shared draft with its comments. Views translate HTTP
to earning.coaching and back; someone reaching for another's record gets 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from microcred.catalog.models import EvidenceRequirement

from . import coaching, selectors, supports
from .forms_coaching import AskForm, AssignForm, CommentForm
from .models import Attempt
from .views import attach_errors, messages_of


def _refuse(request: HttpRequest, title: str, message: str) -> HttpResponse:
    """A 403 that says plainly why, and what to do instead."""
    return render(
        request, "earning/coaching/refused.html", {"title": title, "message": message}, status=403
    )


# ---------------------------------------------------------------------------- the coach
@login_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    if not coaching.is_coach(request.user):
        return _refuse(
            request,
            "The caseload is for coaches",
            "This page lists the teachers a coach works with, and your account does not have "
            "the coach role. If you coach teachers, ask your district's program admin to add "
            "the role to your account.",
        )
    load = coaching.caseload(request.user)
    return render(request, "earning/coaching/caseload.html", {"caseload": load})


@login_required
@require_GET
def coachee(request: HttpRequest, earner_id: int) -> HttpResponse:
    relationship = coaching.coachee_for(request.user, earner_id)
    earner = relationship.earner
    plan = supports.plan_of(earner)
    context = {
        "relationship": relationship,
        "earner": earner,
        "plan": plan,
        "goals": supports.goal_views(earner, plan) if plan else [],
        "attempts": coaching.coachee_attempts(request.user, earner),
    }
    return render(request, "earning/coaching/coachee.html", context)


# ---------------------------------------------------------------------------- relationships
@login_required
@require_http_methods(["GET", "POST"])
def my_coach(request: HttpRequest) -> HttpResponse:
    if not supports.is_earner(request.user):
        return _refuse(
            request,
            "Coaching is for earners",
            "Teachers earning micro-credentials choose a coach here, and your account does not "
            "have the earner role. Ask your district's program admin if it should.",
        )
    current = list(coaching.current_coaches(request.user))
    available = coaching.coaches_for(request.user).exclude(pk__in=[r.coach_id for r in current])
    posted = request.POST if request.method == "POST" else None
    form = AskForm(posted, coaches=available)
    if request.method == "POST" and form.is_valid():
        coach = form.cleaned_data["coach"]
        try:
            _, changed = coaching.start_coaching(request.user, coach, user=request.user)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            if changed:
                messages.success(request, f"{coach.name} is now your coach; we told them.")
            else:
                messages.info(request, f"{coach.name} already is your coach.")
            return redirect("earning:my_coach")
    attempts = [a for a in selectors.attempts_of(request.user) if a.status in Attempt.EDITABLE]
    context = {
        "current": current,
        "form": form,
        "has_choices": available.exists(),
        "attempts": attempts,
    }
    return render(
        request, "earning/coaching/my_coach.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest) -> HttpResponse:
    if not coaching.may_assign(request.user):
        return _refuse(
            request,
            "Assigning coaches is for principals and program admins",
            "A principal assigns coaches to the teachers of their school, and a program admin "
            "to those of the schools they run; your account is neither.",
        )
    posted = request.POST if request.method == "POST" else None
    form = AssignForm(posted, coaches=coaching.assignable_coaches(request.user))
    if request.method == "POST" and form.is_valid():
        coach = form.cleaned_data["coach"]
        try:
            relationship, changed = coaching.assign_by_email(
                request.user, form.cleaned_data["email"], coach
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            earner = relationship.earner
            if changed:
                messages.success(request, f"{coach.name} now coaches {earner.name}.")
            else:
                messages.info(request, f"{coach.name} already coaches {earner.name}.")
            return redirect("earning:assign_coach")
    status = 400 if form.errors else 200
    return render(request, "earning/coaching/assign.html", {"form": form}, status=status)


@login_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    relationship = coaching.relationship_for(request.user, pk)
    is_coach = relationship.coach_id == request.user.pk
    other = relationship.earner if is_coach else relationship.coach
    if coaching.end_coaching(relationship, user=request.user):
        messages.success(request, f"The coaching with {other.name} has ended.")
    else:
        messages.info(request, f"The coaching with {other.name} had already ended.")
    return redirect("earning:caseload" if is_coach else "earning:my_coach")


# ---------------------------------------------------------------------------- shared drafts
def _prefix(requirement_pk: int | None) -> str:
    return f"part{requirement_pk}" if requirement_pk else "whole"


def render_shared_draft(
    request: HttpRequest,
    attempt: Attempt,
    *,
    bound: CommentForm | None = None,
    bound_part: int | None = None,
    status: int = 200,
) -> HttpResponse:
    portfolio = selectors.portfolio(attempt)
    grouped = coaching.comments_by_requirement(attempt)
    refusal = coaching.comment_refusal(attempt)

    def form_for(pk: int | None) -> CommentForm | None:
        if refusal:
            return None
        if bound is not None and bound_part == pk:
            return bound
        return CommentForm(prefix=_prefix(pk))

    parts: list[dict[str, Any]] = [
        {
            "view": item,
            "comments": grouped.get(item.requirement.pk, []),
            "form": form_for(item.requirement.pk),
        }
        for item in portfolio.items
    ]
    context = {
        "attempt": attempt,
        "parts": parts,
        "general": grouped.get(None, []),
        "general_form": form_for(None),
        "refusal": refusal,
        "coaches_earner": request.user.has_perm("earning.view_coachee", attempt.earner),
    }
    return render(request, "earning/coaching/shared_draft.html", context, status=status)


@login_required
@require_GET
def shared_draft(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    return render_shared_draft(request, coaching.shared_attempt(request.user, attempt_uuid))


@login_required
@require_POST
def comment(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    attempt = coaching.shared_attempt(request.user, attempt_uuid)
    part = request.POST.get("part", "")
    requirement = None
    if part:
        if not part.isdigit():
            raise Http404("There is no such part of this evidence.")
        requirement = get_object_or_404(
            EvidenceRequirement, pk=int(part), version_id=attempt.version_id
        )
    part_pk = requirement.pk if requirement else None
    form = CommentForm(request.POST, prefix=_prefix(part_pk))
    if form.is_valid():
        try:
            _, created = coaching.add_comment(
                attempt, user=request.user, body=form.cleaned_data["body"], requirement=requirement
            )
        except PermissionDenied:  # the share was revoked a moment ago
            raise Http404("There is no such shared evidence.") from None
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                attach_errors(form, exc)
            else:
                for message in messages_of(exc):
                    messages.error(request, message)
                return render_shared_draft(request, attempt, status=400)
        else:
            if created:
                messages.success(request, "Your comment was sent to the teacher.")
            else:
                messages.info(request, "You already sent this comment; it was saved once.")
            response = redirect("earning:shared_draft", attempt.uuid)
            response["Location"] += f"#{_prefix(part_pk)}-comments"
            return response
    return render_shared_draft(request, attempt, bound=form, bound_part=part_pk, status=400)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    found = coaching.comment_for_member(request.user, pk)
    if coaching.resolve_comment(found, user=request.user):
        messages.success(request, "Marked resolved. Your coach sees that you dealt with it.")
    else:
        messages.info(request, "This comment was already resolved.")
    response = redirect("earning:attempt", attempt_uuid=found.attempt.uuid)
    response["Location"] += "#coach-comments"
    return response
