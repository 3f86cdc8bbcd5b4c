"""Assessment pages: the assessor's queue, blind scoring and declining, the assessor's own
profile (pause, declared conflicts), and for scoring leads the assessor pool and the
submissions nobody could be assigned.

Views parse and show; services decide and write. Pages an assessor sees are built from
selectors that carry a submission code, never the earner's name or organization.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from microcred.earning.models import Submission

from . import planning, selectors, services
from .forms import ConflictForm, DeclineForm, ProfileForm, ScoreForm, attach_errors
from .models import AssessorProfile, Assignment


def _require(request: HttpRequest, perm: str, obj: object = None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def _own_assignment(request: HttpRequest, pk: int) -> Assignment:
    """Someone else's assignment answers like a missing one: no hint that it exists."""
    assignment = selectors.assignment_for(request.user, pk)
    if assignment is None:
        raise Http404("There is no such assignment in your queue.")
    return assignment


# ---------------------------------------------------------------------------- assessors
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.view_queue")
    profile = selectors.profile_of(request.user)
    return render(
        request,
        "assessment/queue.html",
        {"profile": profile, "rows": selectors.assignments_of(request.user)},
    )


@login_required
def score(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _own_assignment(request, pk)
    _require(request, "assessment.view_assignment", assignment)
    submission = assignment.submission
    sheet = selectors.scoring_sheet(submission.attempt.version_id)
    can_score = request.user.has_perm("assessment.score_assignment", assignment)
    form = ScoreForm(request.POST or None, sheet=sheet) if can_score else None
    if request.method == "POST":
        if form is None:
            messages.error(request, "This assignment is closed, so nothing was changed.")
            return redirect("assessment:score", pk=assignment.pk)
        if form.is_valid():
            try:
                saved = services.submit_score(
                    assignment,
                    assessor=request.user,
                    component_points=form.marks(),
                    feedback=form.feedback(),
                    overall_feedback=form.cleaned_data.get("overall_feedback") or "",
                    minutes_spent=form.cleaned_data.get("minutes_spent") or 0,
                )
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                # The same words for every live read: a drift check must not stand out.
                after = (
                    "It counts toward your calibration."
                    if assignment.purpose == Assignment.Purpose.CALIBRATION
                    else "The earner sees the decision once every read it needs is in."
                )
                messages.success(
                    request, f"Score sent: {saved.total_points} points, {saved.band.label}. {after}"
                )
                return redirect("assessment:queue")
    elif can_score:
        services.start_scoring(assignment, assessor=request.user)
    return render(
        request,
        "assessment/score.html",
        {
            "assignment": assignment,
            "code": selectors.submission_code(submission),
            "title": submission.attempt.version.title,
            "resubmission": submission.number > 1,
            "parts": selectors.scoring_evidence(request.user, assignment),
            "sheet": sheet,
            "form": form,
            "score": None if can_score else selectors.score_of(assignment),
            "decline_form": DeclineForm() if can_score else None,
            "earlier_reads": selectors.earlier_reads(assignment),
        },
    )


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _own_assignment(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say briefly why you decline; nothing was changed.")
        return redirect("assessment:score", pk=assignment.pk)
    try:
        services.decline(assignment, assessor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("assessment:score", pk=assignment.pk)
    messages.success(request, "Declined. The submission goes to another assessor.")
    return redirect("assessment:queue")


def _not_in_pool(request: HttpRequest) -> HttpResponse:
    """What someone without an assessor profile finds on the assessor's own pages, a superuser
    included (whom every permission passes): what to do, rather than a bare refusal."""
    return render(request, "assessment/not_in_pool.html", status=403)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    if profile is None:
        return _not_in_pool(request)
    _require(request, "assessment.view_own_profile")
    form = ConflictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare_conflict(
                profile,
                reason=form.cleaned_data["reason"],
                email=form.cleaned_data.get("email") or "",
                organization=form.cleaned_data.get("organization"),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Conflict saved: you will not be assigned such work.")
            return redirect("assessment:me")
    return render(
        request,
        "assessment/me.html",
        {
            "profile": profile,
            "conflicts": profile.declared_conflicts.select_related("user", "organization"),
            "form": form,
        },
    )


@login_required
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    if profile is None:
        return _not_in_pool(request)
    _require(request, "assessment.change_own_profile", profile)
    paused = request.POST.get("paused") == "1"
    services.set_paused(profile, paused=paused, actor=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        "Paused: you get no new submissions until you resume. Finish or decline the ones "
        "in your queue."
        if paused
        else "Resumed: new submissions can be assigned to you again.",
    )
    return redirect("assessment:me")


# ---------------------------------------------------------------------------- scoring leads
@login_required
def profiles(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.manage_assessors")
    search = request.GET.get("q", "")[:100]
    return render(
        request,
        "assessment/profiles.html",
        {"profiles": selectors.assessor_profiles(search), "search": search},
    )


@login_required
def profile_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require(request, "assessment.manage_assessors")
    profile = get_object_or_404(AssessorProfile, pk=pk) if pk else None
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if profile is not None:
            data["user"] = profile.user
        saved = services.save_profile(actor=request.user, data=data, profile=profile)
        messages.success(request, f"Saved the assessor profile of {saved.user.name}.")
        return redirect("assessment:profiles")
    return render(request, "assessment/profile_edit.html", {"form": form, "profile": profile})


@login_required
def unassigned(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.view_unassigned")
    rows = [
        (w.submission, selectors.submission_code(w.submission), w.kind, w.reason)
        for w in planning.waiting_reads()
    ]
    return render(request, "assessment/unassigned.html", {"rows": rows})


@login_required
@require_POST
def plan_backlog(request: HttpRequest) -> HttpResponse:
    """The batch on demand: every waiting read and every unopened assignment, planned together."""
    _require(request, "assessment.view_unassigned")
    result = services.plan_backlog(actor=request.user)
    text = f"Assigned {len(result.assigned)} read{pluralize(len(result.assigned))}"
    if result.moved:
        text += f", of which {result.moved} moved from an assessor who had not opened it yet"
    messages.success(request, f"{text}. {len(result.unassigned)} still waiting.")
    return redirect(reverse("assessment:unassigned"))


@login_required
@require_POST
def assign_now(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.view_unassigned")
    submission = get_object_or_404(Submission, pk=pk)
    assignment = services.assign(submission)
    if assignment is None:
        reason = services.unassigned_reason(submission) or "It is already assigned or closed."
        messages.error(request, f"Still nobody to assign: {reason}")
    else:
        messages.success(request, f"Assigned {selectors.submission_code(submission)}.")
    return redirect(reverse("assessment:unassigned"))
