"""OneRoster 1.2 CSV rosters: reading the zip, checking it, planning the import, applying it.

A district's student information system exports a zip: manifest.csv says which files it holds
("bulk": the whole roster, "delta": changes only, "absent"), orgs.csv lists the district and its
schools, users.csv the people and roles.csv (new in 1.2) who holds which role where. Other files
(classes, enrollments, demographics...) are about students and courses and are not read.

The import is one more kind of the CSV imports (imports.ImportKind.ONEROSTER): the same dry run
(an imports.ImportPlan with every problem by file, row and column), the same review page, and
services.run_import, which plans again in a transaction and applies only a plan without
problems. Every imported district, school, account and role keeps the sourcedId it came from
in a RosterRecord, so a second import updates instead of adding twice, and oneroster_export
gives the same rows back.

What is kept: districts are matched, never created or changed (a state admin adds them);
schools are created or updated under their district; educators get an account (email
required) and a role; students and families are skipped, no data of theirs is stored.
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone

from . import imports
from .imports import (
    MAX_BYTES,
    Columns,
    ImportKind,
    ImportPlan,
    PlannedRow,
    Problem,
    RawRow,
)
from .models import (
    AuditEvent,
    Membership,
    Organization,
    Role,
    RosterRecord,
    User,
    role_fit_problem,
)

ORGS, USERS, ROLES, MANIFEST = "orgs.csv", "users.csv", "roles.csv", "manifest.csv"
# Rows per INSERT or UPDATE when applying (SQLite allows 32,766 parameters a statement).
BATCH = 1000

# The 1.2 CSV binding's columns, in its order (the export writes them all).
ORG_COLUMNS = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier")
ORG_COLUMNS += ("parentSourcedId",)
USER_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
)
ROLE_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
)
ALL_COLUMNS = {ORGS: ORG_COLUMNS, USERS: USER_COLUMNS, ROLES: ROLE_COLUMNS}
_COMMON = ("sourcedId", "status", "dateLastModified")
# The columns a file must name (the binding asks for every column; we insist on those we read).
REQUIRED = {
    ORGS: ORG_COLUMNS,
    USERS: (*_COMMON, "enabledUser", "givenName", "familyName", "email"),
    ROLES: (*_COMMON, "userSourcedId", "roleType", "role", "orgSourcedId"),
}
# The columns an import keeps (in RosterRecord.values) and the export gives back. Passwords,
# phone numbers and links to students (agentSourcedIds) are deliberately not kept.
KEPT = {
    ORGS: ORG_COLUMNS,
    USERS: (
        *_COMMON,
        "enabledUser",
        "username",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
    ),
    ROLES: ROLE_COLUMNS[:-1],
}
LIMITS = {
    "sourcedId": 255,
    "name": 200,
    "identifier": 40,
    "email": 254,
    "givenName": 150,
    "familyName": 150,
}
# Files the manifest must list as bulk or delta; the others may be absent.
NEEDED_FILES = (ORGS, USERS, ROLES)
MODES = {"bulk", "delta", "absent"}
STATUSES = {"", "active", "tobedeleted"}
ORG_TYPES = {"department", "school", "district", "local", "state", "national"}

# How OneRoster's roles map to ours. Teachers, aides and counselors are educators who earn
# micro-credentials; principals and site administrators lead a school. District and system
# administrators are skipped: admin rights are given in microcred by an admin, never by a file.
ROLE_MAP = {
    "teacher": Role.EARNER,
    "aide": Role.EARNER,
    "counselor": Role.EARNER,
    "principal": Role.PRINCIPAL,
    "siteAdministrator": Role.PRINCIPAL,
}
NOT_EDUCATORS = {"student", "guardian", "parent", "relative"}
NOT_IMPORTED = {"districtAdministrator", "systemAdministrator", "proctor"}
ONEROSTER_ROLES = set(ROLE_MAP) | NOT_EDUCATORS | NOT_IMPORTED


ACTION_LABELS = {
    "link_district": "Link the district to the roster",
    "create_school": "Create the school",
    "update_school": "Update the school",
    "create_user": "Create the account (an invitation is emailed)",
    "fill_names": "Fill in the names",
    "add_role": "Add the role",
    "restore_role": "Restore the role (it had been removed)",
    "remove_role": "Remove the role (the account stays)",
    "link": "Link what is already in microcred to the roster",
    "update_record": "Update the roster's details",
    "skip": "Skipped",
    "skip_student": "Skipped: students and families have no account in microcred",
    **imports.SHARED_ACTION_LABELS,
}
SUMMARY_LABELS = {
    "schools_created": ("new school", "new schools"),
    "schools_updated": ("school updated", "schools updated"),
    "accounts_created": ("new account", "new accounts"),
    "accounts_updated": ("account with names filled in", "accounts with names filled in"),
    "roles_added": ("role added", "roles added"),
    "roles_restored": ("role restored", "roles restored"),
    "roles_removed": ("role removed", "roles removed"),
    "linked": ("record linked to the roster", "records linked to the roster"),
    "records_updated": ("roster detail updated", "roster details updated"),
    "unchanged": ("row already in place", "rows already in place"),
    "students_skipped": ("student or family member skipped", "students or family members skipped"),
    "rows_skipped": ("other row skipped", "other rows skipped"),
    "rows_with_problems": ("row with problems", "rows with problems"),
}
# What each action adds to the counts.
COUNT_OF = {
    "link_district": "linked",
    "create_school": "schools_created",
    "update_school": "schools_updated",
    "create_user": "accounts_created",
    "fill_names": "accounts_updated",
    "add_role": "roles_added",
    "restore_role": "roles_restored",
    "remove_role": "roles_removed",
    "link": "linked",
    "update_record": "records_updated",
    "unchanged": "unchanged",
    "skip": "rows_skipped",
}
NOT_DONE = frozenset({"unchanged", "problem", "skip", "skip_student"})


@dataclass
class RosterRow(PlannedRow):
    """A row of orgs.csv, users.csv or roles.csv (or, with row 0, a role a bulk roles.csv no
    longer lists). `organization` is the district, for the audit; `school` the organization
    the row is about (a school or district, or where a role is held)."""

    ACTION_LABELS: ClassVar[dict[str, str]] = ACTION_LABELS

    file: str = ""
    district: Organization | None = None
    record: RosterRecord | None = None
    kept: dict[str, str] = field(default_factory=dict)
    org_row: RosterRow | None = None  # a role's orgs.csv row, or a school's district row
    user_row: RosterRow | None = None  # a role's users.csv row
    active: bool = True  # a role to hold (False: to remove)

    @property
    def sourced_id(self) -> str:
        return self.values.get("sourcedId", "")

    @property
    def record_changed(self) -> bool:
        return self.record is None or self.record.values != self.kept

    def add(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row or None, column, message, self.file))


@dataclass
class RosterPlan(ImportPlan):
    SUMMARY_LABELS: ClassVar[dict[str, tuple[str, str]]] = SUMMARY_LABELS
    NOT_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"unchanged", "students_skipped", "rows_skipped", "rows_with_problems"}
    )
    kind: str = ImportKind.ONEROSTER
    source: str = ""  # the manifest's source.systemName

    @property
    def rows_to_change(self) -> list[RosterRow]:  # type: ignore[override]
        return [row for row in self.rows if row.action not in NOT_DONE]  # type: ignore[misc]


# --- Reading the zip ------------------------------------------------------------------------


def encode_upload(data: bytes) -> tuple[str, list[Problem]]:
    """The upload as text that can wait in the session (base64), or why it cannot be read."""
    if len(data) > MAX_BYTES:
        return "", [Problem(None, "", "The file is larger than 2 MB. Split it into smaller files.")]
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        return "", [
            Problem(
                None,
                "",
                "This is not a OneRoster roster: upload the zip file your student information "
                "system exported (with manifest.csv, orgs.csv, users.csv and roles.csv inside).",
            )
        ]
    return base64.b64encode(data).decode("ascii"), []


def read_zip(text: str) -> tuple[dict[str, str], list[Problem]]:
    """The text of manifest.csv and of the files we read, by name, or the problems."""
    try:
        data = base64.b64decode(text, validate=True)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (binascii.Error, zipfile.BadZipFile, ValueError):
        return {}, [Problem(None, "", "The zip file is damaged and cannot be opened.")]
    # Some systems put the files in a folder inside the zip: find them by name wherever.
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or info.filename.startswith("__MACOSX/") or not name:
            continue
        members.setdefault(name, info)
    if MANIFEST not in members:
        return {}, [
            Problem(
                None,
                "",
                "The zip has no manifest.csv, so it is not a OneRoster 1.2 roster. "
                f"Files found: {', '.join(sorted(members)) or 'none'}.",
            )
        ]
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name in (MANIFEST, *NEEDED_FILES):
        info = members.get(name)
        if info is None:
            continue
        # The size the zip declares is checked before reading: a small zip can unpack huge.
        if info.file_size > MAX_BYTES:
            problems.append(Problem(None, "", "The file is larger than 2 MB unpacked.", name))
            continue
        try:
            raw = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError):
            problems.append(Problem(None, "", "This file in the zip cannot be unpacked.", name))
            continue
        text_of, found = imports.decode_upload(raw[: MAX_BYTES + 1])
        problems += [replace(p, file=name) for p in found]
        texts[name] = text_of
    return texts, problems


def read_manifest(text: str) -> tuple[dict[str, str], list[Problem]]:
    rows, problems = imports.read_table(
        text, Columns(("propertyname", "value")), what="OneRoster manifest"
    )
    problems = [replace(p, file=MANIFEST) for p in problems]
    manifest = {row.values["propertyname"]: row.values["value"] for row in rows}
    if problems:
        return manifest, problems

    def add(message: str) -> None:
        problems.append(Problem(None, "", message, MANIFEST))

    version = manifest.get("oneroster.version", "")
    if version != "1.2":
        add(
            f"The roster is OneRoster version {version or '(not given)'}; microcred reads "
            "version 1.2, which lists roles in roles.csv. Ask for a OneRoster 1.2 CSV export."
        )
    for name in NEEDED_FILES:
        mode = manifest.get(f"file.{name.removesuffix('.csv')}", "absent")
        if mode not in MODES:
            add(f"file.{name.removesuffix('.csv')} is '{mode}'; it must be bulk, delta or absent.")
        elif mode == "absent":
            add(f"The manifest says {name} is absent; a roster needs orgs, users and roles.")
    return manifest, problems


def _mode(manifest: dict[str, str], name: str) -> str:
    return manifest.get(f"file.{name.removesuffix('.csv')}", "")


def read_file(name: str, text: str | None, mode: str) -> tuple[list[RawRow], list[Problem]]:
    """The rows of one roster file, each value under its 1.2 column name."""
    if text is None:
        return [], [
            Problem(
                None, "", f"The manifest lists {name} as {mode}, but it is not in the zip.", name
            )
        ]
    if len([line for line in text.splitlines() if line.strip()]) == 1:
        return [], []  # only the column names: nothing changed (a delta) or nobody there
    wanted = ALL_COLUMNS[name]
    # imports.read_table compares lower-cased names; the 1.2 names are camelCase.
    by_lower = {column.lower(): column for column in wanted}
    columns = Columns(
        tuple(c.lower() for c in REQUIRED[name]),
        tuple(c.lower() for c in wanted if c not in REQUIRED[name]),
    )
    rows, problems = imports.read_table(
        text, columns, what=f"OneRoster {name.removesuffix('.csv')}"
    )
    problems = [replace(p, file=name, column=_camel(p.column, by_lower)) for p in problems]
    rows = [
        replace(row, values={by_lower[key]: value for key, value in row.values.items()})
        for row in rows
    ]
    return rows, problems


def _camel(columns: str, by_lower: dict[str, str]) -> str:
    return (
        ", ".join(by_lower.get(c.strip(), c.strip()) for c in columns.split(",")) if columns else ""
    )


# --- Checking rows --------------------------------------------------------------------------


def _start(name: str, raw_rows: list[RawRow], mode: str) -> list[RosterRow]:
    """Rows with the checks every file shares: sourcedId, status, dates, lengths, duplicates."""
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    for raw in raw_rows:
        row = RosterRow(raw.number, dict(raw.values), file=name)
        row.kept = {column: row.values.get(column, "") for column in KEPT[name]}
        if raw.overflow:
            row.add("", raw.overflow)
        for column, limit in LIMITS.items():
            if len(row.values.get(column, "")) > limit:
                row.add(column, f"Too long: at most {limit} characters.")
        sourced_id = row.sourced_id
        if not sourced_id:
            row.add("sourcedId", "The sourcedId is empty; every row needs its own.")
        elif sourced_id in seen:
            row.add("sourcedId", f"Duplicate: row {seen[sourced_id]} has the same sourcedId.")
        seen.setdefault(sourced_id, row.row)
        status = row.values.get("status", "")
        if status not in STATUSES:
            row.add("status", f"'{status}' is not a status: use active or tobedeleted.")
        elif mode == "delta" and not status:
            row.add("status", "A delta file gives every row a status: active or tobedeleted.")
        modified = row.values.get("dateLastModified", "")
        if modified and not _is_datetime(modified):
            row.add(
                "dateLastModified",
                f"'{modified}' is not a date and time such as 2026-08-01T12:00:00.000Z.",
            )
        rows.append(row)
    return rows


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _depends(row: RosterRow, column: str, other: RosterRow) -> bool:
    """Mark `row` blocked when the row it depends on has problems; True if it is."""
    if other.problems:
        row.add(column, f"Depends on row {other.row} of {other.file}, which has problems.")
        return True
    return False


# --- Planning -------------------------------------------------------------------------------


def build_plan(actor: Any, text: str) -> RosterPlan:
    """The dry run of a roster: what importing it would do, with every problem found."""
    texts, problems = read_zip(text)
    if problems:
        return RosterPlan(file_problems=problems)
    manifest, problems = read_manifest(texts[MANIFEST])
    if problems:
        return RosterPlan(file_problems=problems)
    tables: dict[str, list[RosterRow]] = {}
    for name in NEEDED_FILES:
        raw_rows, found = read_file(name, texts.get(name), _mode(manifest, name))
        problems += found
        tables[name] = _start(name, raw_rows, _mode(manifest, name))
    if problems:
        return RosterPlan(file_problems=problems)
    plan = RosterPlan(source=manifest.get("source.systemName", "")[:200])
    plan.rows = [*tables[ORGS], *tables[USERS], *tables[ROLES]]
    _Planner(actor, plan, tables, manifest).run()
    return plan


class _Planner:
    """One roster's plan, built in the order rows depend on each other: districts, schools,
    roles (which say who is an educator), people, then the memberships the roles ask for."""

    def __init__(
        self,
        actor: Any,
        plan: RosterPlan,
        tables: dict[str, list[RosterRow]],
        manifest: dict[str, str],
    ) -> None:
        self.actor, self.plan, self.manifest = actor, plan, manifest
        self.orgs, self.users, self.roles = tables[ORGS], tables[USERS], tables[ROLES]
        self.org_rows = {row.sourced_id: row for row in self.orgs if row.sourced_id}
        self.user_rows = {row.sourced_id: row for row in self.users if row.sourced_id}
        self.records: dict[tuple[int, str, str], RosterRecord] = {}

    def run(self) -> None:
        self.plan_districts()
        districts = [row.district for row in self.orgs if row.district and not row.problems]
        for record in RosterRecord.objects.filter(district__in=districts).select_related(
            "organization", "user", "membership"
        ):
            self.records[(record.district_id, record.kind, record.sourced_id)] = record
        self.plan_schools()
        self.check_roles()
        self.plan_users()
        self.plan_memberships()
        for row in self.plan.rows:
            if row.action == "problem" and not row.problems:
                row.add("", "Not checked: a row it depends on has problems.")
            if row.problems:
                row.action = "problem"
                self.plan.counts["rows_with_problems"] += 1
            elif row.action == "skip_student":
                self.plan.counts["students_skipped"] += row.file == USERS
            else:
                self.plan.counts[COUNT_OF[row.action]] += 1

    def record_of(self, row: RosterRow, kind: str) -> RosterRecord | None:
        assert row.district is not None
        return self.records.get((row.district.pk, kind, row.sourced_id))

    # -- orgs.csv

    def plan_districts(self) -> None:
        rows = [r for r in self.orgs if r.values.get("type") == "district"]
        if not rows and self.orgs:
            self.plan.file_problems.append(
                Problem(
                    None,
                    "",
                    "orgs.csv lists no district. A roster is imported into its district: "
                    "include the district's row (type district).",
                    ORGS,
                )
            )
        leas = Organization.objects.filter(kind=Organization.Kind.LEA)
        linked = {
            r.sourced_id: r.district
            for r in RosterRecord.objects.filter(
                kind=RosterRecord.Kind.ORG,
                sourced_id__in=[row.sourced_id for row in rows],
                organization__kind=Organization.Kind.LEA,
            ).select_related("district")
            if r.organization_id == r.district_id
        }
        by_code = {
            o.code.lower(): o
            for o in leas.filter(code__in=[r.values.get("identifier", "") for r in rows]).exclude(
                code=""
            )
        }
        names = {r.values.get("name", "").lower() for r in rows}
        by_name = {
            o.lower_name: o
            for o in leas.annotate(lower_name=Lower("name")).filter(lower_name__in=names)
        }
        for row in self.orgs:
            kind = row.values.get("type", "")
            if kind not in ORG_TYPES:
                row.add("type", f"'{kind}' is not an org type: use {', '.join(sorted(ORG_TYPES))}.")
            elif not row.values.get("name"):
                row.add("name", "The name is empty.")
            parent = row.values.get("parentSourcedId", "")
            if parent and parent not in self.org_rows:
                row.add("parentSourcedId", f"'{parent}' names no org in orgs.csv.")
            if kind in ORG_TYPES - {"district", "school"}:
                row.action, row.detail = "skip", "microcred keeps districts and schools only."
        for row in rows:
            if row.problems:
                continue
            identifier, name = row.values.get("identifier", ""), row.values["name"]
            lea = (
                linked.get(row.sourced_id)
                or by_code.get(identifier.lower() if identifier else "")
                or by_name.get(name.lower())
            )
            if lea is None:
                coded = f" or with the code {identifier}" if identifier else ""
                row.add(
                    "name",
                    f"No district named {name}{coded} is in microcred. A state admin adds "
                    "the district first; the roster then brings its schools and people.",
                )
                continue
            if not self.actor.has_perm("orgs.import_people", lea):
                row.add("name", f"{lea.name} is outside the organizations you manage.")
                continue
            row.district = row.organization = row.school = lea

    def plan_schools(self) -> None:
        rows = [r for r in self.orgs if r.values.get("type") == "school" and not r.problems]
        schools = Organization.objects.filter(kind=Organization.Kind.SCHOOL)
        codes = {r.values.get("identifier", "") for r in rows} - {""}
        by_code = {o.code.lower(): o for o in schools.filter(code__in=codes)}
        code_seen: dict[str, int] = {}
        name_seen: dict[tuple[int, str], int] = {}
        for row in rows:
            parent = self.org_rows.get(row.values.get("parentSourcedId", ""))
            if parent is None:
                row.add("parentSourcedId", "A school names its district in parentSourcedId.")
                continue
            if parent.values.get("type") != "district":
                row.add(
                    "parentSourcedId",
                    f"A school's parentSourcedId names its district; '{parent.sourced_id}' "
                    f"is a {parent.values.get('type')}.",
                )
                continue
            if _depends(row, "parentSourcedId", parent):
                continue
            row.org_row, row.district = parent, parent.district
            row.organization = parent.district
            code, name = row.values.get("identifier", ""), row.values["name"]
            if code and code.lower() in code_seen:
                row.add(
                    "identifier", f"Duplicate: row {code_seen[code.lower()]} has this identifier."
                )
            code_seen.setdefault(code.lower(), row.row)
            assert row.district is not None
            key = (row.district.pk, name.lower())
            if key in name_seen:
                row.add("name", f"Duplicate: row {name_seen[key]} has a school of this name.")
            name_seen.setdefault(key, row.row)
        named = {
            (o.parent_id, o.lower_name): o
            for o in schools.annotate(lower_name=Lower("name")).filter(
                parent__in={r.district for r in rows if r.district}
            )
        }
        for row in rows:
            if not row.problems:
                self.plan_school(row, by_code, named)

    def plan_school(
        self,
        row: RosterRow,
        by_code: dict[str, Organization],
        named: dict[tuple[int | None, str], Organization],
    ) -> None:
        lea = row.district
        assert lea is not None
        code, name = row.values.get("identifier", ""), row.values["name"]
        row.record = self.record_of(row, RosterRecord.Kind.ORG)
        coded = by_code.get(code.lower()) if code else None
        same_name = named.get((lea.pk, name.lower()))
        school = row.record.organization if row.record else coded or same_name
        if row.values.get("status") == "tobedeleted":
            row.action = "skip"
            row.detail = "Schools are not removed by import; an admin can mark one inactive."
            return
        if school is None:
            row.action = "create_school"
            return
        if school.parent_id != lea.pk:
            row.add(
                "identifier",
                f"{school.name} (code {school.code}) is a school of another district; moving "
                "a school to another district is not done by import.",
            )
            return
        if coded is not None and coded.pk != school.pk:
            row.add("identifier", f"The code {code} is already the code of {coded.name}.")
            return
        if same_name is not None and same_name.pk != school.pk:
            row.add("name", f"{lea.name} already has another school named {same_name.name}.")
            return
        row.school = school
        wanted = {"name": name, **({"code": code} if code else {})}
        row.changes = {f: v for f, v in wanted.items() if getattr(school, f) != v}
        if row.changes:
            row.action = "update_school"
            row.detail = "Changes: " + ", ".join(
                f"{f} '{getattr(school, f)}' to '{v}'" for f, v in row.changes.items()
            )
        else:
            row.action = "link" if row.record is None else self._record_action(row)

    @staticmethod
    def _record_action(row: RosterRow) -> str:
        return "update_record" if row.record_changed else "unchanged"

    def finish_districts(self) -> None:
        for row in self.orgs:
            if row.values.get("type") == "district" and not row.problems and row.district:
                row.record = self.record_of(row, RosterRecord.Kind.ORG)
                row.action = "link_district" if row.record is None else self._record_action(row)

    # -- roles.csv, first pass: which rows are educators' roles, and where

    def check_roles(self) -> None:
        self.finish_districts()
        for row in self.roles:
            role = row.values.get("role", "")
            if role not in ONEROSTER_ROLES:
                row.add(
                    "role",
                    f"'{role}' is not a OneRoster 1.2 role: use one of "
                    f"{', '.join(sorted(ONEROSTER_ROLES))}.",
                )
                continue
            if role in NOT_EDUCATORS:
                row.action = "skip_student"
                row.problems.clear()  # nothing of theirs is kept, so nothing to fix
                continue
            if role in NOT_IMPORTED:
                row.action = "skip"
                row.detail = (
                    "Proctors have no role in microcred."
                    if role == "proctor"
                    else "Admin rights are given in microcred by an admin, not by a roster."
                )
                continue
            if row.values.get("roleType") not in {"primary", "secondary"}:
                row.add("roleType", "The roleType is primary or secondary.")
            for column in ("beginDate", "endDate"):
                value = row.values.get(column, "")
                if value and not _is_date(value):
                    row.add(column, f"'{value}' is not a date such as 2026-08-01.")
            org_row = self.org_rows.get(row.values.get("orgSourcedId", ""))
            if org_row is None:
                row.add(
                    "orgSourcedId",
                    f"'{row.values.get('orgSourcedId', '')}' names no org in orgs.csv.",
                )
            elif org_row.action == "skip":
                row.action = "skip"
                row.detail = f"Its org (row {org_row.row} of orgs.csv) is not imported."
                continue
            elif not _depends(row, "orgSourcedId", org_row):
                row.org_row, row.district = org_row, org_row.district
                row.organization = org_row.district
                kind = Organization.Kind.LEA if org_row.values["type"] == "district" else "school"
                problem = role_fit_problem(ROLE_MAP[role], Organization(kind=kind))
                if problem:
                    row.add("role", f"A {role} at {org_row.values['name']}: {problem}")
            user_row = self.user_rows.get(row.values.get("userSourcedId", ""))
            if user_row is None:
                row.add(
                    "userSourcedId",
                    f"'{row.values.get('userSourcedId', '')}' names no user in users.csv.",
                )
            else:
                row.user_row = user_row

    # -- users.csv

    def plan_users(self) -> None:
        educator_roles: dict[str, list[RosterRow]] = defaultdict(list)
        family: set[str] = set()
        for row in self.roles:
            uid = row.values.get("userSourcedId", "")
            if row.action == "skip_student":
                family.add(uid)
            elif row.action != "skip":
                educator_roles[uid].append(row)
        emails = {r.values.get("email", "").lower() for r in self.users}
        accounts = {
            u.email_lower: u
            for u in User.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=emails - {""}
            )
        }
        email_seen: dict[str, int] = {}
        for row in self.users:
            roles = educator_roles.get(row.sourced_id, [])
            districts = {r.district for r in roles if r.district is not None}
            if not roles:
                row.action = "skip_student" if row.sourced_id in family else "skip"
                if row.action == "skip":
                    row.detail = "No role in roles.csv that microcred imports."
                row.problems.clear()  # nothing of theirs is kept, so nothing to fix
                continue
            if len(districts) > 1:
                row.add(
                    "sourcedId",
                    "This person has roles in several districts of the file; "
                    "import each district's roster on its own.",
                )
            row.district = row.organization = next(iter(districts), None)
            email = row.values.get("email", "").lower()
            row.values["email"] = row.kept["email"] = email
            try:
                validate_email(email)
            except ValidationError:
                row.add(
                    "email",
                    f"'{email}' is not a valid email address."
                    if email
                    else "The email is empty; educators sign in to microcred by email.",
                )
            else:
                if email in email_seen:
                    row.add("email", f"Duplicate: row {email_seen[email]} has the same email.")
                email_seen.setdefault(email, row.row)
            for column in ("givenName", "familyName"):
                if not row.values.get(column):
                    row.add(column, f"The {column} is empty.")
            if row.problems or row.district is None:
                continue
            row.record = self.record_of(row, RosterRecord.Kind.USER)
            # A linked account keeps its email even when the roster's changes: changing how a
            # person signs in is done in microcred, never by a file.
            row.user = row.record.user if row.record else accounts.get(email)
            self.plan_user(row)

    def plan_user(self, row: RosterRow) -> None:
        user = row.user
        if user is None and row.values.get("status") == "tobedeleted":
            row.action, row.detail = "skip", "Nothing to remove: microcred has no such account."
            return
        if user is None:
            row.action = "create_user"
            return
        names = {"first_name": row.values["givenName"], "last_name": row.values["familyName"]}
        if not (user.first_name or user.last_name):
            row.changes, row.action = names, "fill_names"
        elif row.record is None:
            row.action = "link"
        else:
            row.action = self._record_action(row)

    # -- roles.csv, second pass: the memberships

    def plan_memberships(self) -> None:
        rows = [r for r in self.roles if r.action == "problem" and not r.problems]
        for row in rows:
            assert row.user_row is not None and row.org_row is not None
            if _depends(row, "userSourcedId", row.user_row):
                continue
            row.role = ROLE_MAP[row.values["role"]]
            row.school = row.org_row.school
            row.user = row.user_row.user
            row.record = self.record_of(row, RosterRecord.Kind.ROLE)
            row.active = "tobedeleted" not in {
                row.values.get("status"),
                row.user_row.values.get("status"),
            }
        rows = [r for r in rows if not r.problems]
        held = {
            (m.user_id, m.organization_id, m.role): m
            for m in Membership.objects.filter(
                user__in={r.user for r in rows if r.user},
                organization__in={r.school for r in rows if r.school},
            )
        }
        # Several rows may ask for one membership (a teacher and an aide at one school): it
        # stays held when any of them is active.
        wanted: dict[tuple[Any, ...], bool] = {}
        for row in rows:
            key = self.key(row)
            wanted[key] = wanted.get(key, False) or row.active
        decided: set[tuple[Any, ...]] = set()
        for row in rows:
            key = self.key(row)
            if row.user and row.school:
                row.membership = held.get((row.user.pk, row.school.pk, row.role))
            first = key not in decided
            decided.add(key)
            row.active = wanted[key]
            membership = row.membership
            if first and row.active and membership is None:
                row.action = "add_role"
            elif first and row.active and not membership.active:  # type: ignore[union-attr]
                row.action = "restore_role"
            elif first and not row.active and membership is not None and membership.active:
                row.action = "remove_role"
            elif row.record is None:
                row.action = "link"
            else:
                row.action = self._record_action(row)
            if row.action == "link" and not row.active and membership is None:
                row.action, row.detail = "skip", "Nothing to remove: microcred has no such role."
        self.plan_departures(wanted)

    @staticmethod
    def key(row: RosterRow) -> tuple[Any, ...]:
        """The membership a role row asks for, before the account or school exist."""
        assert row.user_row is not None and row.org_row is not None
        user = row.user.pk if row.user else id(row.user_row)
        org = row.school.pk if row.school else id(row.org_row)
        return (user, org, row.role)

    def plan_departures(self, wanted: dict[tuple[Any, ...], bool]) -> None:
        """Roles this roster brought that a bulk roles.csv no longer lists, or of a person
        it marks tobedeleted: their memberships are removed (the account stays)."""
        listed = {row.sourced_id for row in self.roles}
        gone_users = {
            row.record.user_id
            for row in self.users
            if row.record and row.values.get("status") == "tobedeleted"
        }
        bulk = _mode(self.manifest, ROLES) == "bulk"
        removed: set[int] = set()
        for (_district, kind, sourced_id), record in self.records.items():
            membership = record.membership
            if (
                kind != RosterRecord.Kind.ROLE
                or sourced_id in listed
                or membership is None
                or not membership.active
                or membership.pk in removed
                or (membership.user_id, membership.organization_id, membership.role) in wanted
                or not (bulk or membership.user_id in gone_users)
            ):
                continue
            removed.add(membership.pk)
            row = RosterRow(0, {"sourcedId": sourced_id}, file=ROLES, action="remove_role")
            row.detail = (
                "Not in this roster any more."
                if membership.user_id not in gone_users
                else "The person is marked tobedeleted."
            )
            row.record, row.membership, row.active = record, membership, False
            row.district = row.organization = record.district
            row.user, row.school, row.role = (
                membership.user,
                membership.organization,
                membership.role,
            )
            row.kept = dict(record.values)
            self.plan.rows.append(row)


# --- Applying -------------------------------------------------------------------------------


def apply_plan(actor: Any, plan: RosterPlan) -> list[User]:
    """Write a checked plan (services.run_import calls this inside its transaction, only for a
    plan without problems); returns the new accounts, to be invited once it commits."""
    from .services import build_audit_event, unique_slug  # services dispatches to here

    events: list[AuditEvent] = []
    new_users: list[User] = []
    records: list[RosterRecord] = []
    changed = plan.rows_to_change

    def audit(action: str, target: Any, org: Organization | None, **data: Any) -> None:
        events.append(
            build_audit_event(
                actor, action, target, organization=org, data={"source": "oneroster", **data}
            )
        )

    for row in changed:
        if row.file != ORGS:
            continue
        if row.action == "create_school":
            assert row.district is not None
            row.school = Organization.objects.create(
                kind=Organization.Kind.SCHOOL,
                name=row.values["name"],
                code=row.values.get("identifier", ""),
                parent=row.district,
                slug=unique_slug(row.values["name"], hint=row.district.slug),
            )
            audit("organization.created", row.school, row.school)
        elif row.action == "update_school" and row.school is not None:
            Organization.objects.filter(pk=row.school.pk).update(**row.changes)
            audit("organization.updated", row.school, row.school, **row.changes)
    # New accounts and roles are written in bulk: a district's roster has thousands of each,
    # and one INSERT per row made a 10,000-staff import take half a minute
    # (bench/integrations.py). The rows get their ids back from bulk_create (SQLite and
    # PostgreSQL), which the roles and roster records below need.
    creating = [row for row in changed if row.file == USERS and row.action == "create_user"]
    for row in creating:
        row.user = User.objects.build(
            row.values["email"],
            first_name=row.values["givenName"],
            last_name=row.values["familyName"],
        )
    new_users = User.objects.bulk_create([row.user for row in creating], batch_size=BATCH)
    for row in changed:
        if row.file != USERS:
            continue
        if row.action == "create_user":
            audit("user.invited", row.user, row.district)
        elif row.action == "fill_names" and row.user is not None:
            User.objects.filter(pk=row.user.pk).update(**row.changes)
            audit("user.names_filled", row.user, row.district, **row.changes)
    made: dict[tuple[int, int, str], Membership] = {}
    added: list[RosterRow] = []
    for row in changed:
        if row.file != ROLES:
            continue
        if row.user is None and row.user_row is not None:
            row.user = row.user_row.user
        if row.school is None and row.org_row is not None:
            row.school = row.org_row.school
        assert row.user is not None and row.school is not None
        key = (row.user.pk, row.school.pk, row.role)
        if row.action == "add_role":
            if key not in made:
                made[key] = Membership(user=row.user, organization=row.school, role=row.role)
            added.append(row)
        elif row.action in {"restore_role", "remove_role"} and row.membership is not None:
            row.membership.active = row.action == "restore_role"
            Membership.objects.filter(pk=row.membership.pk).update(active=row.membership.active)
            action = "membership.restored" if row.membership.active else "membership.removed"
            audit(action, row.membership, row.school, reason=row.detail)
    Membership.objects.bulk_create(made.values(), batch_size=BATCH)
    for row in changed:
        if row.file == ROLES and row.user is not None and row.school is not None:
            row.membership = row.membership or made.get((row.user.pk, row.school.pk, row.role))
    for row in added:
        audit("membership.added", row.membership, row.school)
    for row in changed:
        if row.record_changed and row.district is not None:
            records.append(_record_for(row, plan.source))
    # Records of earlier imports that changed are updated, new ones inserted, each in bulk
    # (bulk_update sets no auto_now field: the time is set here).
    earlier = [record for record in records if record.pk is not None]
    now = timezone.now()
    for record in earlier:
        record.updated = now
    RosterRecord.objects.bulk_create([r for r in records if r.pk is None], batch_size=BATCH)
    RosterRecord.objects.bulk_update(
        earlier,
        ["values", "source", "organization", "user", "membership", "updated"],
        batch_size=BATCH,
    )
    AuditEvent.objects.bulk_create(events, batch_size=BATCH)
    return new_users


KIND_OF_FILE = {
    ORGS: RosterRecord.Kind.ORG,
    USERS: RosterRecord.Kind.USER,
    ROLES: RosterRecord.Kind.ROLE,
}


def _record_for(row: RosterRow, source: str) -> RosterRecord:
    record = row.record or RosterRecord(
        district=row.district, kind=KIND_OF_FILE[row.file], sourced_id=row.sourced_id
    )
    record.values, record.source = row.kept, source
    record.organization = row.school if row.file != USERS else None
    record.user = row.user if row.file != ORGS else None
    record.membership = row.membership if row.file == ROLES else None
    return record
