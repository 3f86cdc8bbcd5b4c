"""Evidence files behind short-lived links, and the page where an earner chooses which
coaches may see their evidence. Access rules live in evidence_access; views translate HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import rules
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from microcred.orgs.tokens import bearer_secret, user_for_secret

from . import coaching, public_evidence, user_files
from . import evidence_access as access
from .models import Attempt, Submission, Upload

_PRIVATE = "private, no-store"


def _presenter(request: HttpRequest) -> Any | None:
    """Whom the request identifies: the API token's person, the session's, or None. A token
    that is wrong or revoked identifies nobody who may use a link: the request is refused."""
    secret = bearer_secret(request)
    if secret is not None:
        return user_for_secret(secret) or AnonymousUser()
    return request.user if request.user.is_authenticated else None


@require_GET
@user_files.file_view
def evidence_file(request: HttpRequest) -> HttpResponse:
    """Stream a file through a link from `evidence_access.signed_url` (local disk). The link
    is the capability: it works without a session (on a separate file origin, for an API
    client), for the person it was made for only, while they still have access."""
    try:
        grant = access.read_link(request.GET.get("token", ""))
    except access.LinkExpired:
        return user_files.refusal(
            "This link has expired. Go back to the page and open the file again.", 403
        )
    except access.LinkInvalid:
        return user_files.refusal(
            "This link is not valid. Go back to the page and open the file from there.", 403
        )
    found = access.file_for_link(grant, _presenter(request))
    if found is None:
        return user_files.refusal("There is no such file.", 404)
    return user_files.serve(
        request, key=found.key, content_type=found.content_type, filename=found.filename
    )


@login_required
@require_GET
def open_file(request: HttpRequest, upload_id: UUID, variant: str) -> HttpResponse:
    """A stable address for pages to link to: checks access, then sends the browser on to a
    fresh short-lived link."""
    upload = get_object_or_404(Upload, pk=upload_id)
    if variant not in access.Variant:
        raise Http404
    try:
        url = access.signed_url(request.user, upload, variant=variant)
    except PermissionDenied:
        raise Http404 from None  # someone else's evidence does not exist, as far as they know
    if not url:
        raise Http404("This file is not ready yet.")
    response = redirect(url)
    response["Cache-Control"] = _PRIVATE
    return response


class ShareForm(forms.Form):
    coach = forms.ModelChoiceField(
        queryset=None,
        label="Coach",
        empty_label="Choose a coach",
        help_text="Coaches at your school or district, and your own coach.",
        error_messages={
            "required": "Choose a coach to share your evidence with.",
            "invalid_choice": "Choose one of the coaches in the list.",
        },
    )

    def __init__(self, attempt: Attempt, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coach"]
        field.queryset = access.eligible_coaches(attempt)
        field.label_from_instance = lambda user: (
            user.email if user.name == user.email else f"{user.name} ({user.email})"
        )


def _stop_sharing(request: HttpRequest, attempt: Attempt) -> None:
    share_id = request.POST.get("share", "")
    share = (
        access.active_shares(attempt).filter(pk=share_id).first() if share_id.isdigit() else None
    )
    if share is None:
        messages.info(request, "That coach already cannot see this evidence.")
    elif access.revoke_share(share, user=request.user):
        messages.success(request, f"{share.coach.name} can no longer see this evidence.")


@login_required
@require_http_methods(["GET", "POST"])
def shares(request: HttpRequest, attempt_uuid: UUID) -> HttpResponse:
    attempt = Attempt.objects.select_related("version", "school").filter(uuid=attempt_uuid).first()
    # Asked of the rule set itself, not user.has_perm: Django lets superusers pass every has_perm,
    # but whose coach sees the evidence is the earner's decision alone.
    if attempt is None or not rules.has_perm("earning.share_evidence", request.user, attempt):
        raise Http404("There is no such attempt.")
    sharing = request.method == "POST" and "revoke" not in request.POST
    form = ShareForm(attempt, request.POST if sharing else None)
    if request.method == "POST":
        if not sharing:
            _stop_sharing(request, attempt)
            return redirect("evidence:shares", attempt.uuid)
        if form.is_valid():
            coach = form.cleaned_data["coach"]
            try:
                coaching.share_with_coach(attempt, coach, user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"{coach.name} can now see this evidence.")
                return redirect("evidence:shares", attempt.uuid)
    context = {
        "attempt": attempt,
        "form": form,
        "shares": access.active_shares(attempt),
        "files": access.attempt_files(attempt),
    }
    return render(request, "earning/evidence/shares.html", context)


# ---------------------------------------------------------------------------- public pages
@require_GET
def public_page(request: HttpRequest, submission_uuid: UUID) -> HttpResponse:
    """The earners' public evidence page (text only); 404 unless published, but for them."""
    page = public_evidence.page_for(request.user, submission_uuid)
    response = render(request, "earning/evidence/public.html", {"page": page})
    # Unpublishing must take effect at once: nobody keeps a copy, and previews stay private.
    response["Cache-Control"] = "no-cache" if page.published else _PRIVATE
    return response


@login_required
@require_POST
def publish(request: HttpRequest, submission_uuid: UUID) -> HttpResponse:
    submission = get_object_or_404(
        Submission.objects.select_related("attempt"), uuid=submission_uuid
    )
    choice = request.POST.get("published", "")
    if choice not in ("yes", "no"):
        messages.error(request, "Choose “Publish” or “Make private”: nothing changed.")
        return redirect("earning:attempt", attempt_uuid=submission.attempt.uuid)
    wanted = choice == "yes"
    try:
        changed = public_evidence.set_published(submission, user=request.user, published=wanted)
    except PermissionDenied:
        raise Http404("There is no such page.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if not changed:
            state = "public" if wanted else "private"
            messages.info(request, f"Nothing changed: the page already was {state}.")
        elif wanted:
            messages.success(request, "Your evidence page is public: anyone with the link sees it.")
        else:
            messages.success(
                request, "Your evidence page is private again: the link shows nothing."
            )
    response = redirect("earning:attempt", attempt_uuid=submission.attempt.uuid)
    response["Location"] += "#public-evidence"
    return response
