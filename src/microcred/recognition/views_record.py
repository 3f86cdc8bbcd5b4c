"""Pages of the educator's record and transcript, and of the licenses an office keeps
(the list and the CSV import, dry run first)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from microcred.orgs import imports
from microcred.orgs.models import Organization

from . import renewal
from .forms_renewal import LicenseFilterForm, LicenseImportForm
from .record import record_of

IMPORT_SESSION_KEY = "recognition_pending_license_import"
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
            "query": query.urlencode(),
            "several_offices": len(offices) > 1,
        },
    )


@login_required
def licenses_import(request: HttpRequest) -> HttpResponse:
    offices = _offices(request)
    form = LicenseImportForm(request.POST or None, request.FILES or None, offices=offices)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        text, problems = imports.decode_upload(upload.read())
        for problem in problems:
            form.add_error("file", str(problem))
        if not problems:
            # The text waits in the session until confirmed: the confirmation carries only
            # a random token, nothing to tamper with.
            token = secrets.token_urlsafe(16)
            request.session[IMPORT_SESSION_KEY] = {
                "token": token,
                "office": form.cleaned_data["office"].pk,
                "text": text,
                "filename": upload.name[:200],
            }
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
    pending = request.session.get(IMPORT_SESSION_KEY)
    if (
        not pending
        or not secrets.compare_digest(pending.get("token", ""), token)
        or pending.get("office") not in offices
    ):
        messages.info(
            request,
            "This upload was already imported, or has expired. Upload the file again to check it.",
        )
        return redirect("recognition:licenses_import")
    office, text, filename = offices[pending["office"]], pending["text"], pending["filename"]
    status = 200
    if request.method == "POST":
        try:
            plan = renewal.run_license_import(request.user, office, text, filename=filename)
        except renewal.LicenseImportRejected as exc:
            plan, status = exc.plan, 400
            messages.error(
                request,
                "Nothing was imported: the file has problems now (the records changed since "
                "you checked). See below.",
            )
        else:
            del request.session[IMPORT_SESSION_KEY]
            if plan.has_changes:
                messages.success(request, f"Imported {filename}: {plan.changes_summary()}.")
            else:
                messages.info(
                    request, "Nothing to import: every license in the file is already in place."
                )
            return redirect("recognition:licenses")
    else:
        plan = renewal.preview_license_import(request.user, office, text)
    return render(
        request,
        "recognition/record/licenses_import_review.html",
        {
            "plan": plan,
            "office": office,
            "filename": filename,
            "token": token,
            "preview_rows": plan.rows_to_change[:500],
        },
        status=status,
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
