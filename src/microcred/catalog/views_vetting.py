"""Pages for vetting reviewers (the queue, the review of a version) and for recognizers
(approving vetted versions for a use, withdrawing an approval).

As in authoring, views only parse and show: services.record_review, approve_for_use and
withdraw_approval decide, write and audit; their refusals come back as plain messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from microcred.orgs.models import Organization

from . import selectors, services
from .forms import ApprovalForm, ReviewForm, WithdrawForm
from .models import Approval, MicroCredentialVersion, QualityCriterion
from .viewhelpers import refuse, report_refusal, require

PAGE_SIZE = 25


# ---------------------------------------------------------------------------- vetting
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    require(request, "catalog.view_vetting_queue")
    page = Paginator(selectors.vetting_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    for version in page:
        # A reviewer who authored a version sees it queued but cannot open its review.
        version.reviewable = request.user.has_perm("catalog.review_version", version)
    return render(request, "catalog/vetting/queue.html", {"page": page})


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(
        MicroCredentialVersion.objects.select_related("micro_credential__provider"), pk=pk
    )
    require(request, "catalog.review_version", version)
    here = reverse("vetting:review", args=[version.pk])
    criteria = list(QualityCriterion.objects.filter(active=True))
    form = None
    if request.method == "POST":
        form = ReviewForm(request.POST, criteria=criteria)
        if form.is_valid():
            try:
                saved = services.record_review(
                    version,
                    reviewer=request.user,
                    decision=form.cleaned_data["decision"],
                    comments=form.cleaned_data["comments"],
                    ratings=form.ratings(),
                )
            except services.TransitionError as exc:
                # Already decided (a second post, or another reviewer was quicker).
                report_refusal(request, exc)
                return redirect(here)
            except ValidationError as exc:
                form.attach(exc)
            else:
                messages.success(
                    request,
                    f"Review saved: {saved.get_decision_display().lower()}. The provider sees "
                    "your ratings and comments on their page.",
                )
                return redirect("vetting:queue")
    elif version.status == MicroCredentialVersion.Status.IN_REVIEW:
        form = ReviewForm(criteria=criteria)
    return render(
        request,
        "catalog/vetting/review.html",
        {
            "version": selectors.version_with_parts(version.pk),
            "reviews": selectors.reviews_of(version),
            "form": form,
            "can_publish": request.user.has_perm("catalog.publish_version", version),
            "here": here,
        },
    )


# ---------------------------------------------------------------------------- approvals for use
def _recognizer(request: HttpRequest) -> tuple[list[Organization], Organization | None]:
    """The organizations the user approves for, and the one chosen (by `org`, else the first).
    Naming an organization the user does not approve for is refused, never silently swapped
    for another: an approval must be given in the name the recognizer meant."""
    orgs = list(selectors.recognizer_organizations(request.user))
    wanted = request.POST.get("org") or request.GET.get("org")
    if not wanted:
        return orgs, orgs[0] if orgs else None
    chosen = next((o for o in orgs if str(o.pk) == wanted), None)
    if chosen is None:
        raise PermissionDenied
    return orgs, chosen


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    require(request, "catalog.manage_approvals")
    orgs, recognizer = _recognizer(request)
    query = request.GET.get("q", "").strip()
    page = None
    if recognizer is not None:
        versions = selectors.versions_for_approval(recognizer, query)
        page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
        selectors.with_credit(a for version in page for a in version.recognizer_approvals)
    return render(
        request,
        "catalog/vetting/approvals.html",
        {"orgs": orgs, "recognizer": recognizer, "page": page, "q": query},
    )


@login_required
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(
        MicroCredentialVersion.objects.select_related("micro_credential__provider"), pk=pk
    )
    if not request.user.has_perm("catalog.approve_for_use", version):
        explain = (
            f"This version is {version.get_status_display().lower()}: only vetted versions "
            "(approved or published) can be approved for a use."
        )
        return refuse(
            request,
            "catalog.approve_for_use",
            version,
            explain=explain,
            back=reverse("vetting:approvals"),
        )
    orgs, recognizer = _recognizer(request)
    if recognizer is None:
        messages.error(request, "You do not approve micro-credentials for any organization.")
        return redirect("vetting:approvals")
    here = f"{reverse('vetting:approval', args=[version.pk])}?org={recognizer.pk}"
    current = selectors.active_approvals(version, recognizer)
    form = ApprovalForm(
        request.POST if request.method == "POST" else None,
        credit=selectors.credit_for(version, recognizer),
        approved={approval.use for approval in current},
    )
    if request.method == "POST" and form.is_valid():
        try:
            approval = services.approve_for_use(
                version,
                recognizer=recognizer,
                actor=request.user,
                use=form.cleaned_data["use"],
                requires_preapproval=form.cleaned_data["requires_preapproval"],
            )
        except services.TransitionError as exc:
            report_refusal(request, exc)
            return redirect(here)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(
                request,
                f"Approved for {approval.get_use_display().lower()} by {recognizer.name}.",
            )
            return redirect(here)
    return render(
        request,
        "catalog/vetting/approval.html",
        {
            "version": selectors.version_with_parts(version.pk),
            "orgs": orgs,
            "recognizer": recognizer,
            "current": current,
            "form": form,
            "withdraw_form": WithdrawForm(),
        },
    )


def _attach(form: ApprovalForm | WithdrawForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@require_POST
@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(Approval.objects.select_related("version", "recognizer"), pk=pk)
    require(request, "catalog.withdraw_approval", approval)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.withdraw_approval(approval, actor=request.user, reason=reason)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, f"Approval for {approval.get_use_display().lower()} withdrawn.")
    url = reverse("vetting:approval", args=[approval.version_id])
    return redirect(f"{url}?org={approval.recognizer_id}")
