"""The program report page and its CSV (see reports.py for what the figures mean)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from microcred.orgs.models import Organization
from microcred.orgs.services import record_audit
from microcred.web.spreadsheets import csv_download, csv_text

from . import reports
from .forms_reports import ReportForm

TEMPLATE = "insights/reports/report.html"


@dataclass
class Asked:
    """What the request asks to see: the district (None: the whole state) and the form."""

    access: reports.ReportAccess
    lea: Organization | None
    form: ReportForm

    @property
    def unit(self) -> Organization | None:
        return self.lea or self.access.state


def _ask(request: HttpRequest) -> Asked:
    """403 without the role; 404 for a district that is not the viewer's."""
    user = request.user
    if not user.has_perm("insights.view_program_reports"):
        raise PermissionDenied(
            "Program reports are for state and district program staff and the state's researchers."
        )
    access = reports.report_access(user)
    raw = request.GET.get("lea", "").strip()
    if raw:
        lea = access.lea(raw)
        if lea is None or not user.has_perm("insights.view_program_reports", lea):
            raise Http404("There is no such district among those whose reports you may read.")
    elif user.has_perm("insights.view_state_report"):
        lea = None
    elif access.leas:
        lea = access.leas[0]
    else:
        raise PermissionDenied("No district's reports are open to you yet.")
    form = ReportForm(request.GET or None, access=access, titles=reports.mc_titles())
    return Asked(access, lea, form)


def _describe(asked: Asked, filters: reports.ReportFilters) -> str:
    """The table's caption, saying everything the figures are limited to."""
    where = asked.lea.name if asked.lea else (asked.unit.name if asked.unit else "The state")
    parts = [f"{where}, by {reports.NOUNS[filters.breakdown.key]}"]
    if filters.micro_credential is not None:
        title = dict(asked.form.fields["mc"].choices).get(str(filters.micro_credential.pk))  # type: ignore[attr-defined]
        parts.append(f"for {title}")
    data = asked.form.cleaned_data if asked.form.is_bound and asked.form.is_valid() else {}
    if data.get("started_from") and data.get("started_to"):
        parts.append(
            f"attempts started {data['started_from']:%b %-d, %Y} to {data['started_to']:%b %-d, %Y}"
        )
    elif data.get("started_from"):
        parts.append(f"attempts started on or after {data['started_from']:%b %-d, %Y}")
    elif data.get("started_to"):
        parts.append(f"attempts started on or before {data['started_to']:%b %-d, %Y}")
    return ", ".join(parts)


# A figure that cannot be computed: a dash to the eye, words to a screen reader.
NO_FIGURE = mark_safe(
    '<span aria-hidden="true">—</span><span class="visually-hidden">no figure</span>'
)


def _cells(row: reports.ReportRow, measures: Any) -> list[str]:
    cells = (reports.display(getattr(row, attr), unit) for attr, _, unit in measures)
    return [NO_FIGURE if cell is None else cell for cell in cells]


def _body(rows: Iterable[tuple[str, list[str]]]) -> SafeString:
    """Table rows, a header cell and its figures each, escaped here rather than by template
    loops or format_html, which took most of a state page's time (115 districts x 15
    figures, and each chart's table)."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row">{html.escape(label)}</th>'
            + "".join(
                f"<td>{cell if isinstance(cell, SafeString) else html.escape(cell)}</td>"
                for cell in cells
            )
            + "</tr>"
            for label, cells in rows
        )
    )


def _context(asked: Asked) -> dict[str, Any]:
    filters = asked.form.filters(asked.lea)
    report = reports.cached_report(filters)
    query = asked.form.data.copy() if asked.form.is_bound and asked.form.is_valid() else None
    return {
        "access": asked.access,
        "lea": asked.lea,
        "unit": asked.unit,
        "form": asked.form,
        "invalid": asked.form.is_bound and not asked.form.is_valid(),
        "report": report,
        "caption": _describe(asked, filters),
        "noun": reports.NOUNS[filters.breakdown.key],
        "fresh_minutes": reports.FRESH_SECONDS // 60,
        "survey_levels": report.survey_levels,
        "measures": reports.MEASURES,
        "table": _body((r.label, _cells(r, reports.MEASURES)) for r in report.rows),
        "total": _cells(report.total, reports.MEASURES),
        "charts": [
            {
                **chart,
                "rows": _body(
                    (r.label, _cells(r, [(a, n, chart["unit"]) for a, n in chart["series"]]))
                    for r in report.rows
                ),
            }
            for chart in reports.chart_specs(report)
        ],
        "querystring": query.urlencode() if query is not None else "",
    }


@login_required
def program_report(request: HttpRequest) -> HttpResponse:
    asked = _ask(request)
    context = _context(asked)
    return render(request, TEMPLATE, context, status=400 if context["invalid"] else 200)


@login_required
def program_report_csv(request: HttpRequest) -> HttpResponse:
    asked = _ask(request)
    if asked.form.is_bound and not asked.form.is_valid():
        context = _context(asked)
        context["problem"] = "Correct the choices below, then download the CSV again."
        return render(request, TEMPLATE, context, status=400)
    filters = asked.form.filters(asked.lea)
    report = reports.cached_report(filters)
    rows = reports.csv_rows(report)
    target = asked.unit if asked.unit is not None else request.user
    record_audit(
        request.user,
        "insights.program_report_exported",
        target,
        data={
            "rows": len(rows),
            "group": filters.breakdown.key,
            "lea": asked.lea.pk if asked.lea else None,
            "micro_credential": filters.micro_credential.pk if filters.micro_credential else None,
            "started_from": asked.form.cleaned_data.get("started_from").isoformat()
            if asked.form.is_bound and asked.form.cleaned_data.get("started_from")
            else None,
            "started_to": asked.form.cleaned_data.get("started_to").isoformat()
            if asked.form.is_bound and asked.form.cleaned_data.get("started_to")
            else None,
        },
        organization=asked.unit,
    )
    slug = asked.unit.slug if asked.unit else "state"
    filename = (
        f"program-report-{slug}-by-{filters.breakdown.key}-{timezone.localdate():%Y-%m-%d}.csv"
    )
    return csv_download(filename, csv_text(reports.csv_header(report), rows))
