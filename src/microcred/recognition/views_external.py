"""Pages of credentials from elsewhere: the educator adds one and follows it; the recognizer's
queue and decision page. Views parse and show; `external` verifies, decides and records."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from microcred.orgs.forms import show_service_errors

from . import external
from .forms_external import DecideForm, UploadForm

# Each waiting row is verified again when shown (it may have been revoked since it was added):
# a page is kept short enough for that to stay quick.
QUEUE_PAGE_SIZE = 20


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "recognition/external/mine.html",
        {
            "credentials": [
                (item, external.use_labels(item.accepted_uses))
                for item in external.brought_by(request.user)
            ]
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    recognizers = external.recognizers_for(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, recognizers=recognizers)
    summary = None
    if request.method == "POST" and form.is_valid():
        try:
            received = external.receive(request.user, form.raw(), form.cleaned_data["recognizer"])
        except external.Refused as refused:
            summary = refused.summary
            show_service_errors(form, refused)
        else:
            matched = (
                f"It matches “{received.matched_version.title}” in the catalog."
                if received.matched_version
                else "It is not in this catalog, so it is kept as a credential from elsewhere."
            )
            messages.success(
                request,
                f"Verified and sent to {received.recognizer.name}. {matched} You will get a "
                "notification when they decide.",
            )
            return redirect("recognition:external_mine")
    return render(
        request,
        "recognition/external/new.html",
        {"form": form, "summary": summary, "recognizers": recognizers},
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("recognition.view_recognition"):
        raise PermissionDenied
    page = Paginator(external.waiting_for(request.user), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "recognition/external/queue.html",
        {
            "page": page,
            "waiting": [(item, external.report(item)) for item in page],
            "decided": external.decided_for(request.user),
        },
    )


@login_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    credential = external.for_decision(request.user, pk)
    if credential is None:
        raise Http404("No credential waits for your office at this address.")
    form = DecideForm(request.POST or None)
    if request.method == "POST" and credential.status != credential.Status.WAITING:
        messages.error(request, "This credential was already decided; nothing was changed.")
        return redirect("recognition:external_decide", credential.pk)
    if request.method == "POST" and form.is_valid():
        try:
            decided = external.decide(
                request.user,
                credential,
                accept=form.accept,
                uses=form.cleaned_data["uses"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Accepted: “{decided.name}” now counts under your policies in force, and "
                f"{decided.educator.name} was told."
                if decided.status == decided.Status.ACCEPTED
                else f"Declined: {decided.educator.name} was told, with your comment.",
            )
            return redirect("recognition:external_queue")
    return render(
        request,
        "recognition/external/decide.html",
        {
            "credential": credential,
            "form": form,
            "summary": external.report(credential),
            "accepted_uses": external.use_labels(credential.accepted_uses),
            "uses_counted": external.uses_counted(credential.recognizer_id),
        },
    )
