"""Recognition in the public API, as on the pages (invariant 8): an educator's own credentials
and ledger; for HR, PD and licensure offices, their entries, bulk approval and exports."""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.security import django_auth

from microcred.api.errors import error_body
from microcred.api.pagination import CheckedPageNumberPagination
from microcred.credentials import selectors as credential_selectors
from microcred.orgs.api_auth import ApiTokenAuth
from microcred.orgs.models import Organization
from microcred.web.spreadsheets import csv_download, csv_text

from . import ledger, services
from .models import LedgerEntry, RecognitionRule

router = Router(tags=["recognition"], auth=[ApiTokenAuth(), django_auth])
PAGE_SIZE = 50


class CredentialOut(Schema):
    uuid: UUID
    name: str
    kind: str = Field(description="“Micro-credential” or “Stack”.")
    issued_at: datetime
    revoked: bool
    url: str = Field(description="The credential's page.")
    json_url: str = Field(description="The signed Open Badges 3.0 document.")


class EntryOut(Schema):
    id: int
    educator: str
    educator_email: str
    title: str
    kind: str
    quantity: Decimal
    amount: Decimal
    figure: str = Field(description="The figure as the ledger page shows it: “1.5 CEUs”.")
    earned_on: date
    policy_id: int
    policy: str
    status: str
    status_label: str
    reverses: int | None
    reversal: str = Field(description="“Reverses entry #n: <reason>” on a reversal.")
    note: str
    approved_at: datetime | None
    export_id: int | None


class EntryFilters(Schema):
    policy: int | None = Field(None, description="Only this policy version's entries.")
    status: LedgerEntry.Status | None = None
    kind: RecognitionRule.Kind | None = None
    q: str = Field("", max_length=200, description="Part of the educator's name or email.")


class ApproveIn(Schema):
    ids: list[int] = Field(min_length=1, max_length=1000)


class ApproveOut(Schema):
    approved: int
    skipped_not_pending: int
    skipped_not_yours: int
    message: str


class ExportIn(Schema):
    recognizer: int


class ExportOut(Schema):
    id: int
    recognizer: int
    created: datetime
    count: int
    unpaid: int = Field(description="Stipend and salary entries not marked paid yet.")
    csv_url: str


class PaidOut(Schema):
    paid: int


def _office(request: HttpRequest) -> None:
    if not ledger.office_ids(request.user):
        raise HttpError(403, "This is for recognizer offices (HR, PD, licensure).")


def _entry(row: ledger.EntryRow) -> dict[str, Any]:
    entry = row.entry
    return {
        "id": entry.pk,
        "educator": row.educator_name,
        "educator_email": row.educator_email,
        "title": entry.title,
        "kind": entry.kind,
        "quantity": entry.quantity,
        "amount": entry.amount,
        "figure": row.figure,
        "earned_on": entry.earned_on,
        "policy_id": entry.policy_id,
        "policy": row.policy,
        "status": entry.status,
        "status_label": row.status,
        "reverses": entry.reverses_id,
        "reversal": row.reversal,
        "note": entry.note,
        "approved_at": entry.approved_at,
        "export_id": entry.export_id,
    }


def _export(request: HttpRequest, export: Any, unpaid: int | None = None) -> dict[str, Any]:
    return {
        "id": export.pk,
        "recognizer": export.recognizer_id,
        "created": export.created,
        "count": export.entry_count,
        "unpaid": getattr(export, "unpaid", 0) if unpaid is None else unpaid,
        "csv_url": request.build_absolute_uri(
            reverse("api-1.0.0:recognition_export_csv", args=[export.pk])
        ),
    }


# ---------------------------------------------------------------------------- the educator
@router.get("/me/credentials", response=list[CredentialOut], summary="My issued credentials")
def my_credentials(request: HttpRequest) -> list[dict[str, Any]]:
    rows = []
    for credential in credential_selectors.credentials_of(request.user):
        summary = credential_selectors.summary_of(credential)
        rows.append(
            {
                "uuid": credential.uuid,
                "name": summary.title,
                "kind": summary.kind,
                "issued_at": credential.issued_at,
                "revoked": hasattr(credential, "revocation"),
                "url": request.build_absolute_uri(
                    reverse("credentials:credential", args=[credential.uuid])
                ),
                "json_url": request.build_absolute_uri(
                    reverse("credentials:credential_json", args=[credential.uuid])
                ),
            }
        )
    return rows


@router.get("/me/ledger", response=list[EntryOut], summary="My ledger entries, newest first")
@paginate(CheckedPageNumberPagination, page_size=PAGE_SIZE)
def my_ledger(request: HttpRequest) -> Any:
    return _Rows(ledger.entries_of_educator(request.user))


class _Rows:
    """A queryset the paginator can count and slice, handing out entries as API rows."""

    def __init__(self, entries: Any) -> None:
        self.entries = entries

    def count(self) -> int:
        return self.entries.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [_entry(row) for row in ledger.entry_rows(self.entries[item])]


# ---------------------------------------------------------------------------- offices
@router.get("/entries", response=list[EntryOut], summary="My offices' ledger entries")
@paginate(CheckedPageNumberPagination, page_size=PAGE_SIZE)
def entries(request: HttpRequest, filters: Query[EntryFilters]) -> Any:
    _office(request)
    chosen = ledger.EntryFilters(
        policy=filters.policy,
        status=filters.status or "",
        kind=filters.kind or "",
        q=filters.q.strip(),
    )
    return _Rows(ledger.entries_for(request.user, chosen))


@router.post(
    "/entries/approve",
    response=ApproveOut,
    summary="Approve pending entries",
    description=(
        "Approves the listed entries that are pending and belong to your offices' policies. "
        "Others are skipped and left as they were: an entry already approved (a second call "
        "approves nothing twice), and an entry of another office or of none."
    ),
)
def approve(request: HttpRequest, payload: ApproveIn) -> dict[str, Any]:
    _office(request)
    result = ledger.approve_selected(request.user, payload.ids)
    return {
        "approved": result.approved,
        "skipped_not_pending": result.not_pending,
        "skipped_not_yours": result.not_yours,
        "message": result.message,
    }


@router.get("/exports", response=list[ExportOut], summary="My offices' exports, newest first")
def list_exports(request: HttpRequest) -> list[dict[str, Any]]:
    _office(request)
    return [_export(request, export) for export in ledger.exports_for(request.user)]


@router.post(
    "/exports",
    response={201: ExportOut, 409: Any},
    summary="Export the approved entries of an office",
    description=(
        "Marks every approved entry of the office not exported before as exported, in one "
        "export; download its rows from csv_url. With nothing new to export the answer is "
        "409 (code nothing_to_export): download an earlier export again instead."
    ),
)
def create_export(request: HttpRequest, payload: ExportIn) -> Any:
    _office(request)
    recognizer = get_object_or_404(Organization, pk=payload.recognizer)
    export = services.export_entries(request.user, recognizer)
    if export is None:
        return Status(
            409,
            error_body(
                409,
                f"Nothing new to export for {recognizer.name}: every approved entry is already "
                "in an earlier export. Approve pending entries first, or download an earlier "
                "export again (GET /exports).",
                code="nothing_to_export",
            ),
        )
    return Status(201, _export(request, ledger.export_for(request.user, export.pk)))


def _own_export(request: HttpRequest, pk: int) -> Any:
    _office(request)
    export = ledger.export_for(request.user, pk)
    if export is None:
        raise HttpError(404, "There is no such export of your offices.")
    return export


@router.get(
    "/exports/{int:pk}.csv",
    url_name="recognition_export_csv",
    summary="An export's rows as CSV (the same rows every time)",
    openapi_extra={
        "responses": {200: {"description": "The CSV", "content": {"text/csv": {}}}},
    },
)
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    return csv_download(
        ledger.export_filename(export),
        csv_text(ledger.CSV_HEADER, ledger.export_csv_rows(export)),
    )


@router.post(
    "/exports/{int:pk}/paid", response=PaidOut, summary="Mark an export's money entries paid"
)
def export_paid(request: HttpRequest, pk: int) -> dict[str, int]:
    return {"paid": services.mark_paid(request.user, _own_export(request, pk))}
