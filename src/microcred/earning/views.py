"""The earner's pages: start an attempt, the portfolio, teams, submit and withdraw, and the
pre-approval queue of principals and recognizers.

Views translate HTTP to earning.services and back. Someone who is not on an attempt gets the
same 404 as for a missing one. Form posts work without JavaScript; portfolio.js sends the same
posts with `Accept: application/json` (autosave, attaching uploads) and gets JSON back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion
from microcred.orgs import programs

from . import public_evidence, selectors, services, teams
from .evidence_access import signed_url
from .forms import (
    AnnotationForm,
    AttachForm,
    DecisionForm,
    InviteForm,
    StartForm,
    TeamForm,
    TextForm,
    format_timestamp,
)
from .models import Annotation, Artifact, Attempt, PreApproval, Submission, TeamMember, Upload
from .uploads.widget import uploader_context


# ---------------------------------------------------------------------------- helpers
def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal on the form: on its field when the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _attempt(request: HttpRequest, attempt_uuid: UUID) -> Attempt:
    return selectors.attempt_for(request.user, attempt_uuid)


def _requirement(attempt: Attempt, pk: int) -> EvidenceRequirement:
    return get_object_or_404(EvidenceRequirement, pk=pk, version_id=attempt.version_id)


def _artifact(attempt: Attempt, pk: int) -> Artifact:
    return get_object_or_404(
        Artifact.objects.select_related("upload", "evidence"), pk=pk, evidence__attempt=attempt
    )


def _annotation(attempt: Attempt, pk: int) -> Annotation:
    return get_object_or_404(
        Annotation.objects.select_related("artifact__upload", "artifact__evidence"),
        pk=pk,
        artifact__evidence__attempt=attempt,
    )


def _back(attempt: Attempt, anchor: str = "") -> HttpResponse:
    response = redirect("earning:attempt", attempt_uuid=attempt.uuid)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def video_url(user: Any, upload: Upload) -> str:
    """A short-lived signed link for the player: the browser-playable copy when there is one."""
    variant = "playable" if upload.playable_key else "original"
    try:
        return signed_url(user, upload, variant=variant)
    except PermissionDenied:
        return ""


# ---------------------------------------------------------------------------- starting
@login_required
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the pre-approval form (when asked for). POST: start, or return to the open one."""
    version = (
        MicroCredentialVersion.objects.filter(micro_credential__slug=slug)
        .exclude(status__in=MicroCredentialVersion.EDITABLE)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404("There is no such micro-credential.")
    existing = selectors.open_attempt(request.user, version)
    if existing is not None:
        return _back(existing)
    school = selectors.earner_school(request.user)
    # A pilot that leaves the school out says so before any pre-approval form is filled in.
    refusal = programs.start_refusal(school)
    if refusal:
        messages.error(request, refusal)
        return redirect("catalog:detail", slug=slug)
    uses = selectors.preapproval_uses(version, school)
    # The catalog's "Start" button posts no rationale: show the request form, without errors.
    data = request.POST if "rationale" in request.POST else None
    form = StartForm(data, uses=uses) if uses else None
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form else {}
        try:
            attempt, _ = services.start_attempt(
                version,
                user=request.user,
                use=data.get("use", ""),
                rationale=data.get("rationale", ""),
            )
        except ValidationError as exc:
            if form is None:
                for message in messages_of(exc):
                    messages.error(request, message)
                return redirect("catalog:detail", slug=slug)
            attach_errors(form, exc)
        else:
            if attempt.status == Attempt.Status.AWAITING_PREAPPROVAL:
                messages.success(request, "Your request for pre-approval was sent.")
            else:
                messages.success(request, "Your attempt has started. Collect your evidence here.")
            return _back(attempt)
    if form is None:
        return redirect("catalog:detail", slug=slug)
    return render(request, "earning/start.html", {"version": version, "form": form})


# ---------------------------------------------------------------------------- the portfolio
def _annotation_form(portfolio: selectors.Portfolio, **kwargs: Any) -> AnnotationForm:
    return AnnotationForm(components=portfolio.components, **kwargs)


def render_portfolio(
    request: HttpRequest,
    attempt: Attempt,
    *,
    text_forms: dict[int, TextForm] | None = None,
    note_forms: dict[int, AnnotationForm] | None = None,
    submit_errors: list[str] | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    portfolio = selectors.portfolio(attempt)
    editable = attempt.status in Attempt.EDITABLE
    text_forms = text_forms or {}
    note_forms = note_forms or {}
    parts = []
    for item in portfolio.items:
        req = item.requirement
        part: dict[str, Any] = {"view": item}
        if item.takes_text:
            part["form"] = text_forms.get(req.pk) or TextForm(
                initial={"text": item.text}, prefix=f"part{req.pk}"
            )
        elif selectors.upload_refusal(attempt, item) is None:
            policy = selectors.upload_policy(req)
            part["uploader"] = uploader_context(
                request, policy, field_id=f"upload-{req.pk}", label=f"Add a file to “{req.title}”"
            )
            part["attachable"] = selectors.attachable_uploads(request.user, req)
        part["files"] = [
            {
                "view": a,
                "url": video_url(request.user, a.upload) if a.upload.duration_seconds else "",
                "note_form": note_forms.get(a.artifact.pk)
                or _annotation_form(portfolio, prefix=f"note{a.artifact.pk}"),
            }
            for a in item.artifacts
        ]
        parts.append(part)
    team_members = list(attempt.team.members.select_related("user")) if attempt.team else []
    calibration = attempt.purpose == Attempt.Purpose.CALIBRATION
    is_owner = attempt.earner_id == request.user.pk and not calibration
    history = [
        {"submission": s, "feedback": selectors.feedback_for(s)}
        for s in selectors.submissions_of(attempt)
    ]
    context = {
        "attempt": attempt,
        "portfolio": portfolio,
        "parts": parts,
        "editable": editable,
        "preapproval": getattr(attempt, "preapproval", None),
        "team_members": team_members,
        "team_form": TeamForm() if is_owner and editable and not attempt.team else None,
        # The team can change while the portfolio can: its members invite and withdraw.
        "invite_form": (
            invite_form or InviteForm(colleagues=selectors.school_colleagues(attempt))
            if attempt.team and editable and selectors.is_attempt_member(request.user, attempt)
            else None
        ),
        "pending_invitations": list(teams.pending_invitations(attempt)),
        "who_can_be_invited": teams.WHO_CAN_BE_INVITED,
        "history": history,
        "submit_errors": submit_errors or [],
        "public_evidence": public_evidence.state_for(attempt),
        "calibration": calibration,
        "calibration_sets": _calibration_sets(attempt) if calibration else [],
    }
    return render(request, "earning/attempt.html", context, status=status)


def _calibration_sets(attempt: Attempt) -> list[Any]:
    """The sets a written anchor can join: its version's active calibration sets."""
    from microcred.assessment.anchors import active_sets_for

    return active_sets_for(attempt.version)


@login_required
@require_GET
def attempt_page(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    return render_portfolio(request, _attempt(request, attempt_uuid))


@login_required
@require_POST
def save_text(request: HttpRequest, attempt_uuid: UUID, requirement_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    requirement = _requirement(attempt, requirement_pk)
    form = TextForm(request.POST, prefix=f"part{requirement.pk}")
    form.is_valid()
    text = form.cleaned_data.get("text", "")
    try:
        services.save_text(attempt, requirement, user=request.user, text=text)
    except ValidationError as exc:
        if _wants_json(request):
            return JsonResponse({"error": " ".join(messages_of(exc))}, status=400)
        attach_errors(form, exc)
        return render_portfolio(request, attempt, text_forms={requirement.pk: form}, status=400)
    if _wants_json(request):
        return JsonResponse(
            {"words": selectors.word_count(text), "saved": timezone.localtime().strftime("%H:%M")}
        )
    messages.success(request, f"Saved “{requirement.title}”.")
    return _back(attempt, f"part-{requirement.pk}")


@login_required
@require_POST
def attach(request: HttpRequest, attempt_uuid: UUID, requirement_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    requirement = _requirement(attempt, requirement_pk)
    form = AttachForm(request.POST)
    upload = None
    if form.is_valid():
        upload = Upload.objects.filter(pk=form.cleaned_data["upload"], owner=request.user).first()
    try:
        if upload is None:
            raise ValidationError("There is no such upload among your files.")
        services.attach_upload(attempt, requirement, user=request.user, upload=upload)
    except ValidationError as exc:
        if _wants_json(request):
            return JsonResponse({"error": " ".join(messages_of(exc))}, status=400)
        for message in messages_of(exc):
            messages.error(request, message)
        return _back(attempt, f"part-{requirement.pk}")
    if _wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, f"Added “{upload.filename}” to “{requirement.title}”.")
    return _back(attempt, f"part-{requirement.pk}")


@login_required
@require_POST
def remove_artifact(request: HttpRequest, attempt_uuid: UUID, artifact_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    artifact = _artifact(attempt, artifact_pk)
    try:
        services.remove_artifact(artifact, user=request.user)
    except ValidationError as exc:
        for message in messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, f"Removed “{artifact.upload.filename}” from the portfolio.")
    return _back(attempt, f"part-{artifact.evidence.requirement_id}")


def _save_note(request: HttpRequest, form: Any, save: Callable[..., Any], target: Any) -> bool:
    """Hand a valid note form to `save` (add or update); service errors land on the form."""
    try:
        save(
            target,
            user=request.user,
            seconds=form.cleaned_data["time"],
            component_id=form.cleaned_data["component"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        attach_errors(form, exc)
        return False
    return True


@login_required
@require_POST
def add_note(request: HttpRequest, attempt_uuid: UUID, artifact_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    artifact = _artifact(attempt, artifact_pk)
    portfolio = selectors.portfolio(attempt)
    form = _annotation_form(portfolio, data=request.POST, prefix=f"note{artifact.pk}")
    if form.is_valid() and _save_note(request, form, services.add_annotation, artifact):
        messages.success(request, "Note added.")
        return _back(attempt, f"notes-{artifact.pk}")
    return render_portfolio(request, attempt, note_forms={artifact.pk: form}, status=400)


@login_required
def edit_note(request: HttpRequest, attempt_uuid: UUID, annotation_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    annotation = _annotation(attempt, annotation_pk)
    portfolio = selectors.portfolio(attempt)
    initial = {
        "time": format_timestamp(annotation.seconds),
        "component": annotation.rubric_component_id,
        "note": annotation.note,
    }
    form = _annotation_form(portfolio, data=request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save_note(request, form, services.update_annotation, annotation)
    ):
        messages.success(request, "Note saved.")
        return _back(attempt, f"notes-{annotation.artifact_id}")
    return render(
        request,
        "earning/note_edit.html",
        {"attempt": attempt, "annotation": annotation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def delete_note(request: HttpRequest, attempt_uuid: UUID, annotation_pk: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    annotation = _annotation(attempt, annotation_pk)
    try:
        services.delete_annotation(annotation, user=request.user)
    except ValidationError as exc:
        for message in messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, "Note deleted.")
    return _back(attempt, f"notes-{annotation.artifact_id}")


# ---------------------------------------------------------------------------- submit, withdraw
@login_required
@require_POST
def submit(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    try:
        submission = services.submit(attempt, user=request.user)
    except ValidationError as exc:
        return render_portfolio(request, attempt, submit_errors=messages_of(exc), status=400)
    if submission.status == Submission.Status.CALIBRATION:
        messages.success(
            request,
            "Anchor submitted. It is never scored live: add it to a calibration set with the "
            "master's points.",
        )
    else:
        messages.success(
            request,
            f"Submission {submission.number} sent. An assessor will score it; we will tell you "
            "when there is a decision.",
        )
    return _back(attempt)


@login_required
@require_POST
def withdraw(request: HttpRequest, attempt_uuid: UUID, number: int) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    submission = get_object_or_404(Submission, attempt=attempt, number=number)
    try:
        services.withdraw(submission, user=request.user)
    except ValidationError as exc:
        for message in messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"Submission {number} withdrawn. You can change your evidence and submit again.",
        )
    return _back(attempt)


# ---------------------------------------------------------------------------- teams
@login_required
@require_POST
def create_team(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    attempt = _attempt(request, attempt_uuid)
    form = TeamForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"name": "Give your team a name."})
        services.create_team(attempt, user=request.user, name=form.cleaned_data["name"])
    except (ValidationError, PermissionDenied) as exc:
        text = messages_of(exc) if isinstance(exc, ValidationError) else [str(exc)]
        for message in text:
            messages.error(request, message)
    else:
        messages.success(request, "Team created. Now invite your colleagues by email.")
    return _back(attempt, "team")


@login_required
@require_POST
def invite(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    """Invite by email or from the school's list; with `withdraw`, withdraw an invitation."""
    attempt = _attempt(request, attempt_uuid)
    if "withdraw" in request.POST:
        return _withdraw(request, attempt)
    form = InviteForm(request.POST, colleagues=selectors.school_colleagues(attempt))
    if form.is_valid():
        try:
            if form.cleaned_data["invitee"] is not None:
                sent: Any = services.invite(
                    attempt, user=request.user, invitee_id=form.cleaned_data["invitee"]
                )
            else:
                sent = teams.invite_by_email(
                    attempt, user=request.user, email=form.cleaned_data["email"]
                )
        except PermissionDenied:
            raise Http404("There is no such attempt.") from None
        except ValidationError as exc:
            if attempt.status not in Attempt.EDITABLE or attempt.team_id is None:
                # No form on the page to show it on: the team cannot change now.
                for message in messages_of(exc):
                    messages.error(request, message)
                return _back(attempt, "team")
            attach_errors(form, exc)
        else:
            if isinstance(sent, TeamMember):
                text = f"{sent.user} is invited; they will see it on their page."
            else:
                text = (
                    f"We emailed {sent.email} a link to create an account. Once they sign up "
                    "with that address, they can join the team."
                )
            messages.success(request, text)
            return _back(attempt, "team")
    return render_portfolio(request, attempt, invite_form=form, status=400)


def _withdraw(request: HttpRequest, attempt: Attempt) -> HttpResponse:
    """`withdraw` is "email-<id>" (waiting for a sign-up) or "member-<id>" (an account)."""
    kind, _, pk = request.POST.get("withdraw", "").partition("-")
    try:
        if not pk.isdigit() or kind not in ("email", "member"):
            raise ValidationError("There is no such invitation on this team.")
        if kind == "email":
            invitation = teams.withdraw_invitation(
                attempt, user=request.user, invitation_id=int(pk)
            )
            name = invitation.email
        else:
            name = teams.withdraw_member_invitation(attempt, user=request.user, member_id=int(pk))
    except PermissionDenied:
        raise Http404("There is no such attempt.") from None
    except ValidationError as exc:
        for message in messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, f"The invitation to {name} is withdrawn.")
    return _back(attempt, "team")


@login_required
@require_POST
def respond(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = get_object_or_404(TeamMember.objects.select_related("team"), pk=member_pk)
    if member.user_id != request.user.pk:
        raise Http404("There is no such invitation.")
    accept = request.POST.get("answer") == "accept"
    try:
        services.respond_to_invitation(member, user=request.user, accept=accept)
    except ValidationError as exc:
        for message in messages_of(exc):
            messages.error(request, message)
        return redirect("web:dashboard")
    if accept:
        messages.success(request, f"You joined “{member.team.name}”.")
        return _back(member.team.attempt)
    messages.success(request, "Invitation declined.")
    return redirect("web:dashboard")


# ---------------------------------------------------------------------------- pre-approvals
@login_required
@require_GET
def preapprovals(request: HttpRequest) -> HttpResponse:
    pending = selectors.pending_preapprovals(request.user)
    return render(
        request,
        "earning/preapprovals.html",
        {"pending": [(p, DecisionForm(prefix=f"p{p.pk}")) for p in pending]},
    )


@login_required
@require_POST
def decide(request: HttpRequest, preapproval_pk: int) -> HttpResponse:
    preapproval = get_object_or_404(
        PreApproval.objects.select_related("attempt"), pk=preapproval_pk
    )
    if not request.user.has_perm("earning.decide_preapproval", preapproval):
        raise Http404("There is no such request.")
    form = DecisionForm(request.POST, prefix=f"p{preapproval.pk}")
    if form.is_valid():
        try:
            services.decide_preapproval(
                preapproval,
                user=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # already decided: nothing left to fix here
                for message in messages_of(exc):
                    messages.error(request, message)
                return redirect("earning:preapprovals")
            attach_errors(form, exc)
        else:
            messages.success(request, "Decision recorded; the teacher has been told.")
            return redirect("earning:preapprovals")
    pending = [
        (p, form if p.pk == preapproval.pk else DecisionForm(prefix=f"p{p.pk}"))
        for p in selectors.pending_preapprovals(request.user)
    ]
    return render(request, "earning/preapprovals.html", {"pending": pending}, status=400)
