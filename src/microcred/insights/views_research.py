"""The researcher's pages: the datasets, the de-identified CSV exports, the data dictionary."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from microcred.web.spreadsheets import csv_download, csv_text

from . import research
from .forms_evaluation import ExportForm

FORBIDDEN = (
    "Research exports are for researchers and evaluators, who hold the researcher role at the "
    "state agency. Your account does not have it, so nothing was exported. Program reports and "
    "staff progress are where principals and district or state staff read their data."
)


def _forbidden(request: HttpRequest) -> HttpResponse | None:
    if request.user.has_perm("insights.export_research"):
        return None
    return render(request, "insights/research/forbidden.html", {"reason": FORBIDDEN}, status=403)


def _page(request: HttpRequest, form: ExportForm, status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "datasets": research.available(request.user),
        "past": research.past_exports(request.user),
        "k": research.K,
        "rule": research.suppression_rule(),
    }
    return render(request, "insights/research/index.html", context, status=status)


@login_required
def research_index(request: HttpRequest) -> HttpResponse:
    if (denied := _forbidden(request)) is not None:
        return denied
    return _page(request, ExportForm(initial={"dataset": "attempts"}))


@login_required
def research_export(request: HttpRequest) -> HttpResponse:
    if (denied := _forbidden(request)) is not None:
        return denied
    form = ExportForm(request.GET)
    if not form.is_valid():
        return _page(request, form, status=400)
    export = research.start_export(request.user, form.cleaned_data["dataset"], form.filters())
    response = StreamingHttpResponse(export.lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@login_required
def research_dictionary(request: HttpRequest) -> HttpResponse:
    if (denied := _forbidden(request)) is not None:
        return denied
    if request.GET.get("format") == "csv":
        return csv_download(
            "microcred-research-data-dictionary.csv",
            csv_text(research.DICTIONARY_HEADER, research.dictionary_rows()),
        )
    return render(
        request,
        "insights/research/dictionary.html",
        {
            "datasets": list(research.DATASETS.values()),
            "k": research.K,
            "rule": research.suppression_rule(),
        },
    )
