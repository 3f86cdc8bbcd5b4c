"""Reliability pages: agreement per MC and per assessor for scoring leads and the state office,
open drift flags and clearing them, and an assessor's own agreement.

Views parse and show; monitoring.py computes and writes. An assessor's own page names nobody
else: the other reader of a double read is only a reference score.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from microcred.web.spreadsheets import csv_download, csv_text

from . import monitoring, selectors
from .models import AssessorProfile, DriftFlag
from .views import _not_in_pool, _require


class ClearFlagForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why you clear this flag",
        help_text="For example: we reviewed their recent reads together. The assessor sees it.",
        error_messages={"required": "Enter a reason: it is kept on record and shown to them."},
    )


@login_required
def reliability(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.view_reliability")
    reports = monitoring.overview()
    return render(
        request,
        "assessment/reliability/overview.html",
        {
            "reports": reports,
            "charts": [report.chart() for report in reports],
            "open_flags": monitoring.open_flags().count(),
        },
    )


@login_required
def reliability_csv(request: HttpRequest) -> HttpResponse:
    """Every statistic of every MC and assessor, one row each, for a spreadsheet."""
    _require(request, "assessment.view_reliability")
    rows = []
    for report in monitoring.overview():
        readers = [("Everyone", report.overall)] + [
            (row.profile.user.name, row.reliability) for row in report.assessors
        ]
        for who, reliability in readers:
            rows += [
                (
                    report.title,
                    who,
                    statistic.name,
                    "" if statistic.value is None else round(statistic.value, 4),
                    "" if statistic.threshold is None else statistic.threshold,
                    statistic.pairs,
                    statistic.summary,
                )
                for statistic in reliability.statistics
            ]
    header = ["Micro-credential", "Assessor", "Statistic", "Value", "Threshold", "Pairs", "Summary"]
    return csv_download("reliability.csv", csv_text(header, rows))


@login_required
def assessor(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.view_reliability")
    profile = get_object_or_404(AssessorProfile.objects.select_related("user"), pk=pk)
    reports = monitoring.assessor_reports(profile)
    return render(
        request,
        "assessment/reliability/assessor.html",
        {
            "profile": profile,
            "reports": reports,
            "charts": [report.chart() for report in reports],
            "form": ClearFlagForm(),
        },
    )


@login_required
@require_POST
def clear_flag(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.view_reliability")
    flag = get_object_or_404(DriftFlag.objects.select_related("assessor__user"), pk=pk)
    form = ClearFlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]) + " Nothing was changed.")
        return redirect("assessment:reliability_assessor", pk=flag.assessor_id)
    resumed = flag.status == DriftFlag.Status.PAUSED
    try:
        monitoring.clear_flag(flag, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = flag.assessor.user.name
        messages.success(
            request,
            f"Resumed {name}: they can score live work again."
            if resumed
            else f"Cleared the flag: {name} is qualified again.",
        )
    return redirect("assessment:reliability_assessor", pk=flag.assessor_id)


@login_required
def drift_flags(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.view_reliability")
    flags = list(monitoring.open_flags())
    named = monitoring.titles({flag.micro_credential_id for flag in flags})
    rows = [(flag, named.get(flag.micro_credential_id, "")) for flag in flags]
    return render(request, "assessment/reliability/flags.html", {"rows": rows})


@login_required
def my_reliability(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    if profile is None:
        return _not_in_pool(request)
    _require(request, "assessment.view_own_record")
    reports = monitoring.assessor_reports(profile)
    return render(
        request,
        "assessment/reliability/mine.html",
        {"reports": reports, "charts": [report.chart() for report in reports]},
    )
