"""Pay pages: the monthly payable report for scoring leads and the state program office (on
screen and as CSV), and each assessor's own pay. The figures come from `pay`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from microcred.web.spreadsheets import csv_download

from . import pay, selectors


def _month(request: HttpRequest) -> tuple[pay.Month, str]:
    return pay.parse_month(request.GET.get("month"))


@login_required
def pay_report(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("assessment.view_pay"):
        raise PermissionDenied
    month, problem = _month(request)
    if request.GET.get("format") == "csv":
        by = request.GET.get("by", "")
        if by not in pay.CSV_KINDS:
            raise Http404("There is no such pay file.")
        if problem:
            # A file of another month than the one asked for would be easy to pay twice.
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        return csv_download(
            f"microcred-pay-by-{by}-{month.value}.csv",
            pay.report_csv(pay.pay_report(month), by),
        )
    report = pay.pay_report(month)
    return render(
        request,
        "assessment/pay/report.html",
        {"report": report, "totals": report.totals, "problem": problem},
    )


@login_required
def my_pay(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    if profile is None:
        # A superuser passes every permission yet has no pay to show: say what to do instead.
        return render(request, "assessment/not_in_pool.html", status=403)
    if not request.user.has_perm("assessment.view_own_record"):
        raise PermissionDenied
    month, problem = _month(request)
    return render(
        request,
        "assessment/pay/mine.html",
        {
            "profile": profile,
            "month": month,
            "totals": pay.own_pay(profile, month),
            "history": pay.own_history(profile, month),
            "problem": problem,
        },
    )
