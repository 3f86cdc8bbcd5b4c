"""Pages of the earner supports: the self-assessment, "My learning plan" and, for principals,
"Plans to sign off". Thin: earning/supports.py reads and decides."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from microcred.orgs.models import Role
from microcred.orgs.selectors import has_role

from . import selectors, supports
from .forms_supports import GoalEditForm, GoalForm, SelfAssessmentForm, SendForm, SignOffForm
from .models import LearningPlan


def _errors_onto(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# ---------------------------------------------------------------------------- self-assessment
@login_required
@require_http_methods(["GET", "POST"])
def self_assessment(request: HttpRequest, version_pk: int) -> HttpResponse:
    version = supports.self_assessable_version(request.user, version_pk)
    view = supports.self_assessment_view(request.user, version)
    earner = supports.is_earner(request.user)
    form = SelfAssessmentForm(request.POST if request.method == "POST" else None, rows=view.rows)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                supports.save_self_assessment(request.user, version, form.ratings())
            except ValidationError as exc:
                _errors_onto(form, exc)
            else:
                messages.success(request, "Your self-assessment is saved.")
                return redirect("earning:self_assessment", version_pk=version.pk)
        status = 400
    attempt = selectors.attempts_of(request.user).filter(version=version).first()
    return render(
        request,
        "earning/supports/self_assessment.html",
        {
            "version": version,
            "view": view,
            "form": form,
            "earner": earner,
            "attempt": attempt,
        },
        status=status,
    )


# ---------------------------------------------------------------------------- learning plan
def _plan_page(
    request: HttpRequest,
    *,
    goal_form: GoalForm | None = None,
    send_form: SendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = supports.plan_view(request.user)
    return render(
        request,
        "earning/supports/plan.html",
        {
            "view": view,
            "plan": view.plan,
            "earner": supports.is_earner(request.user),
            "goal_form": goal_form or GoalForm(),
            "send_form": send_form or SendForm(principals=view.principals),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    """GET: "My learning plan". POST: add a goal."""
    if request.method == "GET":
        return _plan_page(request)
    form = GoalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            supports.add_goal(
                request.user,
                micro_credential=data["micro_credential"],
                stack=data["stack"],
                text=data["text"],
                target_date=data["target_date"],
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(request, "The goal is added to your plan.")
            return redirect("earning:plan")
    return _plan_page(request, goal_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, goal_pk: int) -> HttpResponse:
    goal = supports.goal_of(request.user, goal_pk)
    derived = bool(goal.micro_credential_id or goal.stack_id)
    initial = {"text": goal.text, "target_date": goal.target_date, "status": goal.status}
    form = GoalEditForm(
        request.POST if request.method == "POST" else None, initial=initial, derived=derived
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                supports.update_goal(
                    request.user,
                    goal,
                    text=data["text"],
                    target_date=data["target_date"],
                    status=data.get("status", goal.status),
                )
            except ValidationError as exc:
                _errors_onto(form, exc)
            else:
                messages.success(request, "The goal is saved.")
                return redirect("earning:plan")
        status = 400
    view = next(g for g in supports.goal_views(request.user, goal.plan) if g.goal.pk == goal.pk)
    return render(
        request,
        "earning/supports/goal_edit.html",
        {"goal": view, "form": form, "plan": goal.plan},
        status=status,
    )


@login_required
@require_POST
def goal_remove(request: HttpRequest, goal_pk: int) -> HttpResponse:
    goal = supports.goal_of(request.user, goal_pk)
    supports.remove_goal(request.user, goal)
    messages.success(request, "The goal is removed from your plan.")
    return redirect("earning:plan")


@login_required
@require_POST
def plan_send(request: HttpRequest) -> HttpResponse:
    form = SendForm(request.POST, principals=supports.principals_for(request.user))
    if form.is_valid():
        try:
            supports.send_for_sign_off(request.user, form.cleaned_data["principal"])
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(
                request, "Your plan is sent. We will tell you when your principal decides."
            )
            return redirect("earning:plan")
    return _plan_page(request, send_form=form, status=400)


# ---------------------------------------------------------------------------- principals
def _require_principal(request: HttpRequest) -> None:
    if not has_role(request.user, Role.PRINCIPAL):
        raise PermissionDenied("Only principals sign off learning plans.")


@login_required
def plans_to_sign_off(request: HttpRequest) -> HttpResponse:
    _require_principal(request)
    return render(
        request,
        "earning/supports/plans_to_sign_off.html",
        {"plans": supports.plans_to_sign_off(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, plan_pk: int) -> HttpResponse:
    _require_principal(request)
    plan = supports.plan_for_principal(request.user, plan_pk)
    form = SignOffForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                supports.decide_plan(
                    request.user,
                    plan,
                    sign_off=form.cleaned_data["decision"] == "sign_off",
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                _errors_onto(form, exc)
            else:
                done = plan.sign_off == LearningPlan.SignOff.SIGNED_OFF
                messages.success(
                    request,
                    f"{'Signed off' if done else 'Returned'}: the plan of {plan.earner}. "
                    "They have been told.",
                )
                return redirect("earning:plans_to_sign_off")
        status = 400
    return render(
        request,
        "earning/supports/plan_review.html",
        {
            "plan": plan,
            "goals": supports.goal_views(plan.earner, plan),
            "form": form,
            "waiting": plan.sign_off == LearningPlan.SignOff.WAITING,
        },
        status=status,
    )
