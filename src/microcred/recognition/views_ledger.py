"""The ledger pages of HR, PD and licensure offices: entries and their bulk approval, budget
use, exports for the HR or licensure system, and who holds the skills for a role. The reads
live in `ledger`, the writes in `services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from microcred.web.spreadsheets import csv_download, csv_text

from . import ledger, services
from .forms_ledger import FILTER_KEYS, ApproveForm, ExportForm, HoldersForm, LedgerFilterForm

PAGE_SIZE = 50


def _require_office(request: HttpRequest) -> None:
    if not request.user.has_perm("recognition.view_recognition") or not ledger.office_ids(
        request.user
    ):
        raise PermissionDenied("These pages are for recognizer offices (HR, PD, licensure).")


def _query(data: QueryDict, keys: tuple[str, ...] = (*FILTER_KEYS, "page")) -> str:
    """The filters (and page) of `data` as a query string, nothing else carried over."""
    kept = QueryDict(mutable=True)
    for key in keys:
        value = data.get(key, "")
        if value:
            kept[key] = value[:200]
    return kept.urlencode()


def _ledger_url(query: str = "") -> str:
    return reverse("recognition:ledger") + (f"?{query}" if query else "")


def _export_choices(request: HttpRequest) -> list[dict[str, Any]]:
    waiting = ledger.approved_waiting(request.user)
    return [
        {"office": office, "waiting": waiting.get(office.pk, 0)}
        for office in ledger.offices(request.user)
    ]


@login_required
def ledger_page(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = LedgerFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if request.GET else ledger.EntryFilters()
    page = Paginator(ledger.entries_for(request.user, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = ledger.entry_rows(page.object_list)
    return render(
        request,
        "recognition/ledger/ledger.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "rows": rows,
            "pending_ids": [row.entry.pk for row in rows if row.pending],
            "filter_query": _query(request.GET, FILTER_KEYS),
            "back": _query(request.GET),
            "budgets": ledger.budgets(request.user),
            "export_choices": _export_choices(request),
        },
    )


@login_required
@require_POST
def ledger_approve(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = ApproveForm(request.POST)
    back = _query(QueryDict(request.POST.get("back", "")))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(_ledger_url(back))
    result = ledger.approve_selected(request.user, form.cleaned_data["ids"])
    (messages.success if result.approved else messages.warning)(request, result.message)
    return redirect(_ledger_url(back))


@login_required
def exports(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    return render(
        request,
        "recognition/ledger/exports.html",
        {
            "exports": ledger.exports_for(request.user),
            "export_choices": _export_choices(request),
        },
    )


@login_required
@require_POST
def export_new(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = ExportForm(request.POST, user=request.user)
    if not form.is_valid():
        if str(request.POST.get("recognizer", "")).isdigit():
            raise PermissionDenied("You do not export for this office.")
        messages.error(request, "Choose the office to export for: nothing was exported.")
        return redirect("recognition:exports")
    office = form.offices[form.cleaned_data["recognizer"]]
    export = services.export_entries(request.user, office)
    if export is None:
        messages.warning(
            request,
            f"Nothing new to export for {office.name}: every approved entry is already in an "
            "earlier export. Approve pending entries first, or download an earlier export "
            "again below.",
        )
        return redirect("recognition:exports")
    return redirect("recognition:export_csv", pk=export.pk)


@login_required
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    export = ledger.export_for(request.user, pk)
    if export is None:
        raise Http404("There is no such export of your office.")
    return csv_download(
        ledger.export_filename(export),
        csv_text(ledger.CSV_HEADER, ledger.export_csv_rows(export)),
    )


@login_required
@require_POST
def export_paid(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    export = ledger.export_for(request.user, pk)
    if export is None:
        raise Http404("There is no such export of your office.")
    count = services.mark_paid(request.user, export)
    if count:
        messages.success(
            request,
            f"Marked {count} stipend and salary {'entry' if count == 1 else 'entries'} "
            f"of export {export.pk} paid.",
        )
    else:
        messages.warning(
            request,
            f"Nothing to mark paid: export {export.pk} holds no stipend or salary entry "
            "waiting for payment.",
        )
    return redirect("recognition:exports")


@login_required
def role_holders(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    roles = ledger.role_holders(request.user)
    chosen_role = next((r for r in roles if str(r.rule.pk) == request.GET.get("role")), None)
    form = HoldersForm(request.GET if _query(request.GET, ("micro_credential", "stack")) else None)
    holders = None
    if form.is_bound and form.is_valid():
        holders = ledger.holders_of(
            request.user,
            micro_credential=form.cleaned_data.get("micro_credential"),
            stack=form.cleaned_data.get("stack"),
        )
    if request.GET.get("format") == "csv":
        if chosen_role is not None:
            label, people = chosen_role.rule.role_title, chosen_role.holders
        elif holders is not None:
            label, people = form.label(), holders
        else:
            raise Http404("Choose a role, a micro-credential or a stack to download.")
        return csv_download(
            "microcred-skill-holders.csv",
            csv_text(ledger.HOLDER_CSV_HEADER, ledger.holder_csv_rows(label, people)),
        )
    return render(
        request,
        "recognition/ledger/role_holders.html",
        {
            "roles": roles,
            "form": form,
            "holders": holders,
            "holders_label": form.label() if holders is not None else "",
            "holders_query": _query(request.GET, ("micro_credential", "stack")),
        },
    )
