"""A district's roster as OneRoster 1.2 CSV: what orgs.oneroster imported, as microcred has it now.

Each row is written from its RosterRecord: the columns microcred keeps come back as they were
imported, except where microcred holds the live value (a school's name and code, a person's
email and names, whether a role is still held: a removed role is written "tobedeleted"). So a
roster imported and exported unchanged gives back the same rows for the kept columns; the
columns microcred does not keep (passwords, phone numbers, grades...) are left empty.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from django.core.exceptions import PermissionDenied

from .models import Organization, RosterRecord
from .oneroster import ALL_COLUMNS, MANIFEST, ORGS, ROLES, USERS

# The 1.2 manifest's file entries, in the binding's order; we write three of them.
MANIFEST_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)
FILE_OF = {
    RosterRecord.Kind.ORG: ORGS,
    RosterRecord.Kind.USER: USERS,
    RosterRecord.Kind.ROLE: ROLES,
}


def _live_values(record: RosterRecord) -> dict[str, str]:
    values = dict(record.values)
    if record.kind == RosterRecord.Kind.ORG and record.organization is not None:
        values["name"] = record.organization.name
        values["identifier"] = record.organization.code or values.get("identifier", "")
    elif record.kind == RosterRecord.Kind.USER and record.user is not None:
        values["email"] = record.user.email
        values["givenName"] = record.user.first_name or values.get("givenName", "")
        values["familyName"] = record.user.last_name or values.get("familyName", "")
    elif record.kind == RosterRecord.Kind.ROLE:
        held = record.membership is not None and record.membership.active
        values["status"] = values.get("status", "") if held else "tobedeleted"
    return values


def exportable_rosters(user: Any) -> list[Organization]:
    """Districts with an imported roster that `user` may import into (and so export)."""
    districts = Organization.objects.filter(roster_records__kind=RosterRecord.Kind.ORG)
    return [lea for lea in districts.distinct() if user.has_perm("orgs.import_people", lea)]


def roster_rows(district: Organization) -> dict[str, list[dict[str, str]]]:
    """The rows of orgs.csv, users.csv and roles.csv, in the order they were imported."""
    rows: dict[str, list[dict[str, str]]] = {ORGS: [], USERS: [], ROLES: []}
    records = (
        RosterRecord.objects.filter(district=district)
        .select_related("organization", "user", "membership")
        .order_by("id")
    )
    for record in records:
        name = FILE_OF[RosterRecord.Kind(record.kind)]
        values = _live_values(record)
        rows[name].append({column: values.get(column, "") for column in ALL_COLUMNS[name]})
    return rows


def _csv(header: tuple[str, ...], rows: list[dict[str, str]] | list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row[c] for c in header] if isinstance(row, dict) else row)
    return out.getvalue()


def export_zip(actor: Any, district: Organization) -> bytes:
    """The district's roster as a OneRoster 1.2 CSV zip (bulk files)."""
    if not actor.has_perm("orgs.import_people", district):
        raise PermissionDenied("You do not manage this district.")
    rows = roster_rows(district)
    written = {"orgs", "users", "roles"}
    source = (
        RosterRecord.objects.filter(district=district)
        .exclude(source="")
        .values_list("source", flat=True)
        .first()
    )
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [
        (f"file.{name}", "bulk" if name in written else "absent") for name in MANIFEST_FILES
    ]
    manifest += [("source.systemName", source or "microcred")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, _csv(("propertyName", "value"), manifest))
        for name, file_rows in rows.items():
            archive.writestr(name, _csv(ALL_COLUMNS[name], file_rows))
    return buffer.getvalue()
