"""Pages of the educator's record and transcript, and of the licenses an office keeps
(the list and the CSV import, dry run first)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from microcred.orgs.import_flow import ImportFlow
from microcred.orgs.models import Organization

from . import renewal
from .forms_renewal import LicenseFilterForm, LicenseImportForm
from .record import record_of

IMPORT_FLOW = ImportFlow(
    session_key="recognition_pending_license_import",
    upload_url="recognition:licenses_import",
    done_url="recognition:licenses",
    done_label="Back to licenses",
    title="Check the license import",
    preview_template="recognition/record/_license_import_preview.html",
    rejected=renewal.LicenseImportRejected,
    nothing_to_import="Nothing to import: every license in this file is already in place.",
)
PAGE_SIZE = 50


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    return render(request, "recognition/record/my_record.html", {"record": record_of(request.user)})


@login_required
def transcript_pdf(request: HttpRequest) -> HttpResponse:
    # fpdf (and Pillow with it) loads for the PDF only, not in every page-serving worker.
    from . import transcript

    response = HttpResponse(transcript.render(record_of(request.user)), "application/pdf")
    filename = f"microcred-transcript-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _offices(request: HttpRequest) -> list[Organization]:
    offices = renewal.license_offices(request.user)
    if not offices:
        raise PermissionDenied("Only a licensure or HR office keeps licenses.")
    return offices


@login_required
def licenses(request: HttpRequest) -> HttpResponse:
    offices = _offices(request)
    form = LicenseFilterForm(request.GET or None, offices=offices)
    office, ending_soon = offices[0], False
    if form.is_valid():
        office = form.cleaned_data["office"] or office
        ending_soon = form.cleaned_data["ending_soon"]
    rows = renewal.license_rows(office, ending_soon=ending_soon)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "recognition/record/licenses.html",
        {
            "form": form,
            "office": office,
            "page": page,
            "ending_soon": ending_soon,
            "filters": query.urlencode(),
            "several_offices": len(offices) > 1,
        },
    )


@login_required
def licenses_import(request: HttpRequest) -> HttpResponse:
    offices = _offices(request)
    form = LicenseImportForm(request.POST or None, request.FILES or None, offices=offices)
    if request.method == "POST" and form.is_valid():
        token = IMPORT_FLOW.stash(request, form, office=form.cleaned_data["office"].pk)
        if token:
            return redirect("recognition:licenses_import_review", token=token)
    return render(
        request,
        "recognition/record/licenses_import.html",
        {
            "form": form,
            "required": renewal.REQUIRED_COLUMNS,
            "optional": renewal.OPTIONAL_COLUMNS,
        },
    )


@login_required
def licenses_import_review(request: HttpRequest, token: str) -> HttpResponse:
    offices = {office.pk: office for office in _offices(request)}
    pending = IMPORT_FLOW.pending(request, token)
    if pending is None or pending.get("office") not in offices:
        return IMPORT_FLOW.expired(request)
    office = offices[pending["office"]]
    return IMPORT_FLOW.review(
        request,
        token,
        pending,
        preview=lambda text: renewal.preview_license_import(request.user, office, text),
        run=lambda text, filename: renewal.run_license_import(
            request.user, office, text, filename=filename
        ),
        context={"office": office, "what": f"Licenses for {office.name}"},
    )


@login_required
def licenses_import_template(request: HttpRequest) -> HttpResponse:
    """An example file with the right columns, to fill in and upload."""
    _offices(request)
    columns = renewal.REQUIRED_COLUMNS + renewal.OPTIONAL_COLUMNS
    example = "ana.lopez@example.org,1234567,Elementary Education K-6,2024-07-01,2029-06-30,8.0,4"
    body = ",".join(columns) + "\r\n" + example + "\r\n"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="microcred-licenses.csv"'
    return response
