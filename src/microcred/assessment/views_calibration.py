"""Calibration pages (issue 9): an earner's consent to share a decided submission as an anchor;
for scoring leads the calibration sets, anchors written for them on the ordinary portfolio
page, their master scores, and each assessor's
qualifications; for assessors their own calibration and each round's results.

Views parse and show; anchors.py and calibration.py decide and write. What assessors see of an
anchor is its submission code, never the earner.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from . import anchors, selectors
from .forms import attach_errors
from .forms_calibration import AnchorForm, AttestForm, SetForm, StartRoundForm
from .models import AssessorProfile, CalibrationAnchor, CalibrationSet
from .views import _not_in_pool, _require


# ---------------------------------------------------------------------------- earners
@login_required
def anchor_consent(request: HttpRequest, submission_uuid: UUID) -> HttpResponse:
    """What sharing means, and the button to give or withdraw it. Someone else's submission
    answers like a missing one."""
    submission = anchors.consent_submission(request.user, submission_uuid)
    if submission is None:
        raise Http404("There is no such submission of yours.")
    if request.method == "POST":
        give = request.POST.get("consent") == "give"
        try:
            if give:
                anchors.give_consent(submission, user=request.user)
            else:
                anchors.withdraw_consent(submission, user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request,
                "Thank you: trained assessors may now practise on this submission."
                if give
                else "Withdrawn: this submission is no longer used to train assessors.",
            )
        return redirect("assessment:anchor_consent", submission_uuid=submission.uuid)
    return render(
        request,
        "assessment/calibration/consent.html",
        {
            "submission": submission,
            "attempt": submission.attempt,
            "decided": submission.status == submission.Status.DECIDED,
            "consent": anchors.current_consent(submission),
        },
    )


# ---------------------------------------------------------------------------- scoring leads
@login_required
def calibration_sets(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    form = SetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = anchors.create_set(
                actor=request.user,
                title=form.cleaned_data.get("title") or "",
                version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"Created “{created.title}”. Now add its anchors.")
            return redirect("assessment:calibration_set", pk=created.pk)
    return render(
        request,
        "assessment/calibration/sets.html",
        {"groups": anchors.sets_by_version(), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def calibration_set(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    chosen = get_object_or_404(CalibrationSet.objects.select_related("version"), pk=pk)
    form = AnchorForm(request.POST or None, calibration_set=chosen)
    if request.method == "POST" and form.is_valid():
        try:
            anchor = anchors.add_anchor(
                chosen,
                actor=request.user,
                submission=form.chosen_submission(),
                points=form.points(),
                rationale=form.cleaned_data.get("rationale") or "",
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                f"Added {selectors.submission_code(anchor.submission)}: master "
                f"{anchor.master_total} points, {anchor.master_band.label}.",
            )
            return redirect("assessment:calibration_set", pk=chosen.pk)
    return render(
        request,
        "assessment/calibration/set.html",
        {
            "set": chosen,
            "rows": anchors.anchor_rows(chosen),
            "needed": anchors.anchors_needed(chosen),
            "form": form,
            "rounds": chosen.rounds.select_related("assessor__user").order_by("-started_at"),
            "drafts": anchors.written_drafts(request.user, chosen.version),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def write_anchor(request: HttpRequest, pk: int) -> HttpResponse:
    """Start (or go back to) an anchor written for the set's version, on the portfolio page."""
    _require(request, "assessment.manage_calibration")
    chosen = get_object_or_404(CalibrationSet.objects.select_related("version"), pk=pk)
    try:
        attempt = anchors.start_written_anchor(chosen, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("assessment:calibration_set", pk=chosen.pk)
    messages.success(
        request,
        "Write the anchor's evidence here as an earner would, then submit it. It is never "
        "scored live; it then appears among this set's submissions to add.",
    )
    return redirect("earning:attempt", attempt_uuid=attempt.uuid)


@login_required
@require_POST
def remove_anchor(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    anchor = get_object_or_404(CalibrationAnchor.objects.select_related("submission"), pk=pk)
    code = selectors.submission_code(anchor.submission)
    try:
        anchors.remove_anchor(anchor, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Removed {code} from the set.")
    return redirect("assessment:calibration_set", pk=anchor.calibration_set_id)


@login_required
@require_POST
def retire_set(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    chosen = get_object_or_404(CalibrationSet, pk=pk)
    anchors.retire_set(chosen, actor=request.user)
    messages.success(request, f"Retired “{chosen.title}”: no new rounds start on it.")
    return redirect("assessment:calibration_sets")


@login_required
def qualifications(request: HttpRequest, pk: int) -> HttpResponse:
    """One assessor's qualifications and rounds; start a round for them, or attest them for an
    MC that has no anchors yet."""
    _require(request, "assessment.manage_calibration")
    profile = get_object_or_404(AssessorProfile.objects.select_related("user"), pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    round_form = StartRoundForm(request.POST if action == "round" else None, profile=profile)
    attest_form = AttestForm(request.POST if action == "attest" else None, profile=profile)
    if action == "round" and round_form.is_valid():
        try:
            started = anchors.start_round(
                profile, round_form.cleaned_data.get("calibration_set"), actor=request.user
            )
        except ValidationError as exc:
            attach_errors(round_form, exc)
        else:
            messages.success(request, _started_text(started.assignments.count(), profile))
            return redirect("assessment:qualifications", pk=profile.pk)
    if action == "attest" and attest_form.is_valid():
        try:
            anchors.attest(
                profile,
                attest_form.cleaned_data.get("micro_credential"),
                actor=request.user,
                note=attest_form.cleaned_data.get("note") or "",
            )
        except ValidationError as exc:
            attach_errors(attest_form, exc)
        else:
            messages.success(request, f"{profile.user.name} is qualified on your word.")
            return redirect("assessment:qualifications", pk=profile.pk)
    return render(
        request,
        "assessment/calibration/qualifications.html",
        {
            "profile": profile,
            "qualifications": anchors.qualifications_of(profile),
            "rounds": anchors.rounds_of(profile),
            "round_form": round_form,
            "attest_form": attest_form,
        },
        status=400 if round_form.errors or attest_form.errors else 200,
    )


def _started_text(count: int, profile: AssessorProfile | None = None) -> str:
    whose = f"{profile.user.name}'s" if profile else "your"
    return (
        f"Round started: {count} calibration submission{pluralize(count)} in {whose} "
        "scoring queue, marked “Calibration”."
    )


# ---------------------------------------------------------------------------- assessors
@login_required
def my_calibration(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    if profile is None:
        return _not_in_pool(request)
    _require(request, "assessment.view_own_record")
    form = StartRoundForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            started = anchors.start_round(
                profile, form.cleaned_data.get("calibration_set"), actor=request.user
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _started_text(started.assignments.count()))
            return redirect("assessment:queue")
    return render(
        request,
        "assessment/calibration/my.html",
        {
            "profile": profile,
            "qualifications": anchors.qualifications_of(profile),
            "rounds": anchors.rounds_of(profile),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
def calibration_round(request: HttpRequest, pk: int) -> HttpResponse:
    """A round's agreement beside its thresholds; the anchor-by-anchor comparison with the
    master once it is finished, so it cannot steer the scoring."""
    found = anchors.round_for(request.user, pk)
    if found is None:
        raise Http404("There is no such calibration round of yours.")
    return render(
        request,
        "assessment/calibration/round.html",
        {
            "result": anchors.round_result(found),
            "own": found.assessor.user_id == request.user.pk,
        },
    )
