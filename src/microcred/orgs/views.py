"""Management pages for program admins: organizations, people, imports, the audit log.

Views stay thin: they check the permission (rules.py), call a selector or a service, and
render or redirect. Every POST that changes something redirects (a reload does not repeat it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import imports, oneroster, oneroster_export, selectors, services
from .forms import ImportUploadForm, MembershipForm, OrganizationForm, show_service_errors
from .import_flow import ImportFlow
from .models import Membership, Organization, Role

PAGE_SIZE = 50
IMPORT_SESSION_KEY = "orgs_pending_import"
IMPORT_FLOW = ImportFlow(
    session_key=IMPORT_SESSION_KEY,
    upload_url="orgs:import",
    done_url="orgs:manage",
    done_label="Back to organizations",
    title="Check the import",
    preview_template="orgs/includes/import_preview.html",
    rejected=services.ImportRejected,
    nothing_to_import="Nothing to import: everything in this file is already in place.",
)


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def _page(request: HttpRequest, qs: QuerySet[Any], size: int = PAGE_SIZE) -> Page:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _organization(slug: str) -> Organization:
    return get_object_or_404(Organization.objects.select_related("parent"), slug=slug)


# --- Organizations --------------------------------------------------------------------------


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    _require(request, "orgs.access_management")
    query = request.GET.get("q", "").strip()
    context: dict[str, Any] = {"query": query}
    if query:
        context["results"] = _page(request, selectors.search_manageable(request.user, query))
    else:
        context["tree"] = selectors.organization_tree(request.user)
    return render(request, "orgs/manage.html", context)


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    _require(request, "orgs.access_management")
    initial: dict[str, Any] = {}
    parent_slug = request.GET.get("parent")
    if parent_slug:
        parent = Organization.objects.filter(slug=parent_slug).first()
        if parent is not None and request.user.has_perm("orgs.add_organization", parent):
            initial["parent"] = parent
            child_kinds = [
                k for k, parents in Organization.ALLOWED_PARENTS.items() if parent.kind in parents
            ]
            initial["kind"] = child_kinds[0] if child_kinds else None
    elif not request.user.has_perm("orgs.add_organization", None):
        # A district admin almost always adds a school to their own district.
        own = selectors.organizations_where(request.user, Role.PROGRAM_ADMIN)
        if len(own) == 1:
            initial = {"parent": own[0], "kind": Organization.Kind.SCHOOL}
    form = OrganizationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = services.create_organization(
                request.user,
                kind=data["kind"],
                name=data["name"],
                slug=data["slug"],
                **{k: v for k, v in form.values().items() if k != "name"},
            )
        except PermissionDenied:
            form.add_error(
                "parent",
                "You can only add organizations inside the ones you manage. Choose one of them.",
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{org.name} was added.")
            return redirect("orgs:detail", slug=org.slug)
    return render(request, "orgs/organization_form.html", {"form": form, "organization": None})


@login_required
def organization_edit(request: HttpRequest, slug: str) -> HttpResponse:
    org = _organization(slug)
    _require(request, "orgs.manage_organization", org)
    form = OrganizationForm(request.POST or None, user=request.user, instance=org)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_organization(request.user, org, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, f"{org.name} was saved.")
            else:
                messages.info(request, "Nothing had changed, so nothing was saved.")
            return redirect("orgs:detail", slug=org.slug)
    return render(request, "orgs/organization_form.html", {"form": form, "organization": org})


def _detail(
    request: HttpRequest, org: Organization, member_form: MembershipForm, status: int = 200
) -> HttpResponse:
    can_manage = request.user.has_perm("orgs.manage_memberships", org)
    query = request.GET.get("q", "").strip()
    context = {
        "organization": org,
        "can_manage": can_manage,
        "can_add_child": any(
            org.kind in parents for parents in Organization.ALLOWED_PARENTS.values()
        ),
        "children": selectors.child_organizations(org) if can_manage else [],
        "members": _page(request, selectors.memberships_of(org, search=query))
        if can_manage
        else None,
        "query": query,
        "member_form": member_form,
    }
    return render(request, "orgs/organization_detail.html", context, status=status)


@login_required
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    org = _organization(slug)
    _require(request, "orgs.view_organization", org)
    return _detail(request, org, MembershipForm(organization=org))


@login_required
@require_POST
def membership_add(request: HttpRequest, slug: str) -> HttpResponse:
    org = _organization(slug)
    _require(request, "orgs.manage_memberships", org)
    form = MembershipForm(request.POST, organization=org)
    if form.is_valid():
        try:
            result = services.add_membership(request.user, org, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            user, role = result.membership.user, result.membership.get_role_display()
            text = f"{user.email} is now {role} at {org.name}."
            if result.user_created:
                text += " They will get an email to choose a password."
            messages.success(request, text)
            return redirect(reverse("orgs:detail", args=[org.slug]) + "#people")
    return _detail(request, org, form, status=400)


@login_required
@require_POST
def membership_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    org = _organization(slug)
    _require(request, "orgs.manage_memberships", org)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, organization=org
    )
    label = f"{membership.user.email} ({membership.get_role_display()})"
    try:
        removed = services.deactivate_membership(
            request.user, membership, reason=request.POST.get("reason", "")[:500]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if removed:
            messages.success(request, f"Removed the role of {label}.")
        else:
            messages.info(request, f"The role of {label} had already been removed.")
    return redirect(reverse("orgs:detail", args=[org.slug]) + "#people")


# --- Audit log ------------------------------------------------------------------------------


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    _require(request, "orgs.view_audit")
    org = None
    if request.GET.get("org"):
        org = _organization(request.GET["org"])
        _require(request, "orgs.view_audit", org)
    page = _page(request, selectors.audit_events_for(request.user, org))
    for event in page:
        event.label = selectors.describe_action(event.action)
    return render(request, "orgs/audit.html", {"page": page, "organization": org})


# --- Imports --------------------------------------------------------------------------------


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    _require(request, "orgs.access_management")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        roster = kind == imports.ImportKind.ONEROSTER
        read = oneroster.encode_upload if roster else imports.decode_upload
        token = IMPORT_FLOW.stash(request, form, read=read, kind=kind)
        if token:
            return redirect("orgs:import_review", token=token)
    return render(
        request,
        "orgs/import_upload.html",
        {
            "form": form,
            "columns": imports.COLUMNS,
            "roles": Role.values,
            "rostered": oneroster_export.exportable_rosters(request.user),
        },
    )


@login_required
def roster_export(request: HttpRequest, slug: str) -> HttpResponse:
    """A district's roster as imported from OneRoster, as a OneRoster 1.2 CSV zip."""
    district = get_object_or_404(Organization, slug=slug, kind=Organization.Kind.LEA)
    _require(request, "orgs.import_people", district)
    response = HttpResponse(
        oneroster_export.export_zip(request.user, district), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="oneroster-{district.slug}.zip"'
    return response


@login_required
def import_review(request: HttpRequest, token: str) -> HttpResponse:
    _require(request, "orgs.access_management")
    pending = IMPORT_FLOW.pending(request, token)
    if pending is None:
        return IMPORT_FLOW.expired(request)
    kind = pending["kind"]
    return IMPORT_FLOW.review(
        request,
        token,
        pending,
        preview=lambda text: services.preview_import(request.user, kind, text),
        run=lambda text, filename: services.run_import(request.user, kind, text, filename=filename),
        context={"what": imports.ImportKind(kind).label},
    )


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An example file with the right columns, to fill in and upload."""
    _require(request, "orgs.access_management")
    examples = {
        imports.ImportKind.PEOPLE: "ana.lopez@example.org,Ana,Lopez,earner,pine-elementary",
        imports.ImportKind.SCHOOLS: "Pine Elementary,370001000001,pine-county-schools,West",
    }
    if kind not in examples:  # a OneRoster roster comes from the district's own system
        raise Http404
    body = ",".join(imports.COLUMNS[kind].all) + "\r\n" + examples[kind] + "\r\n"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="microcred-{kind}.csv"'
    return response
