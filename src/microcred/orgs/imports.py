"""Reading and checking CSV imports of people and schools, without writing anything.

A district office exports a spreadsheet, uploads it, and first sees a dry-run report: every
problem named by row and column, and what would be created or updated. services.run_import
builds the same plan again inside a transaction and applies it only if it has no problems,
so a file is imported entirely or not at all, and importing it twice changes nothing.
Row numbers are spreadsheet row numbers: the column names are row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import TextChoices
from django.db.models.functions import Lower

from . import selectors
from .models import Membership, Organization, Role, User, role_fit_problem, with_article

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
SAVE_AS_HINT = 'In Excel or Google Sheets, save or download the sheet as "CSV UTF-8".'


class ImportKind(TextChoices):
    PEOPLE = "people", "People and their roles"
    SCHOOLS = "schools", "Schools in a district"
    ONEROSTER = "oneroster", "A OneRoster 1.2 roster (zip of CSV files)"


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


COLUMNS: dict[str, Columns] = {
    ImportKind.PEOPLE: Columns(("email", "first_name", "last_name", "role", "organization")),
    ImportKind.SCHOOLS: Columns(("name", "code", "lea"), ("region",)),
}
# Column names people actually type, mapped to ours.
HEADER_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "firstname": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "org": "organization",
    "district": "lea",
    "school_name": "name",
    "school_code": "code",
}
MAX_LENGTHS = {
    "email": 254,
    "first_name": 150,
    "last_name": 150,
    "name": 200,
    "code": 40,
    "region": 80,
}
# How every import words a row it leaves alone, and one it cannot import.
SHARED_ACTION_LABELS = {
    "unchanged": "Nothing to do: already in place",
    "problem": "Not imported: fix the problems first",
}
# What a plan would do with a row, as the report words it.
ACTION_LABELS = {
    "create_user": "Create the account and add the role",
    "add_role": "Add the role",
    "restore_role": "Restore the role (it had been removed)",
    "fill_names": "Fill in the names (the role is already in place)",
    "create_school": "Create the school",
    "update_school": "Update the school",
    **SHARED_ACTION_LABELS,
}


# The counts of a plan, singular and plural, in the order the report shows them.
SUMMARY_LABELS = {
    "accounts_created": ("new account", "new accounts"),
    "accounts_updated": ("account with names filled in", "accounts with names filled in"),
    "roles_added": ("role added", "roles added"),
    "roles_restored": ("role restored", "roles restored"),
    "schools_created": ("new school", "new schools"),
    "schools_updated": ("school updated", "schools updated"),
    "unchanged": ("row already in place", "rows already in place"),
    "rows_with_problems": ("row with problems", "rows with problems"),
}


@dataclass(frozen=True)
class Problem:
    row: int | None  # None: the whole file
    column: str
    message: str
    file: str = ""  # which file of a zip of several (a OneRoster roster)

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "File"
        if self.file:
            where = f"{self.file}, row {self.row}" if self.row else self.file
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class RowPlan:
    """A row of a file and what importing it would do: the part every import shares. Each
    import's rows say what their actions are called in ACTION_LABELS."""

    ACTION_LABELS: ClassVar[dict[str, str]] = {}

    row: int
    values: dict[str, str]
    action: str = "problem"
    detail: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return self.ACTION_LABELS[self.action]

    def add(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row, column, message))


class PlanReport[R: RowPlan]:
    """What every import's dry run reports. A plan holds `rows` and `file_problems`, counts
    what it would do in `tallies()`, and names each count in SUMMARY_LABELS; the counts in
    NOT_CHANGES are left out of the message after an import."""

    SUMMARY_LABELS: ClassVar[dict[str, tuple[str, str]]]
    NOT_CHANGES: ClassVar[frozenset[str]]
    rows: list[R]
    file_problems: list[Problem]

    def tallies(self) -> Counter[str]:
        raise NotImplementedError

    @property
    def problems(self) -> list[Problem]:
        return self.file_problems + [p for row in self.rows for p in row.problems]

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def has_changes(self) -> bool:
        return bool(self.rows_to_change)

    @property
    def rows_with_problems(self) -> list[R]:
        return [row for row in self.rows if row.problems]

    @property
    def rows_to_change(self) -> list[R]:
        return [row for row in self.rows if row.action not in {"unchanged", "problem"}]

    def summary(self, *, changes_only: bool = False) -> list[tuple[str, int]]:
        """The counts the report shows, in a fixed order, without zeros."""
        counts = self.tallies()
        skipped = self.NOT_CHANGES if changes_only else frozenset()
        return [
            (self.SUMMARY_LABELS[key][count != 1], count)
            for key in self.SUMMARY_LABELS
            if key not in skipped and (count := counts[key])
        ]

    def changes_summary(self) -> str:
        """'2 new accounts, 3 roles added': what an import did, for the message after it."""
        return ", ".join(f"{count} {label}" for label, count in self.summary(changes_only=True))


@dataclass
class PlannedRow(RowPlan):
    ACTION_LABELS: ClassVar[dict[str, str]] = ACTION_LABELS

    # What the services need to apply the row (set only when the row has no problems).
    organization: Organization | None = None
    role: str = ""
    user: User | None = None
    membership: Membership | None = None
    school: Organization | None = None
    changes: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportPlan(PlanReport[PlannedRow]):
    SUMMARY_LABELS: ClassVar[dict[str, tuple[str, str]]] = SUMMARY_LABELS
    NOT_CHANGES: ClassVar[frozenset[str]] = frozenset({"unchanged", "rows_with_problems"})

    kind: str
    rows: list[PlannedRow] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def tallies(self) -> Counter[str]:
        return self.counts


# --- Reading the file -----------------------------------------------------------------------

_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or another zipped file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
}


def decode_upload(data: bytes) -> tuple[str, list[Problem]]:
    """The text of an uploaded file, or the problems that stop us reading it."""
    if len(data) > MAX_BYTES:
        return "", [Problem(None, "", "The file is larger than 2 MB. Split it into smaller files.")]
    if not data.strip():
        return "", [Problem(None, "", "The file is empty.")]
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            return "", [
                Problem(None, "", f"This is not a CSV file: it looks like {what}. {SAVE_AS_HINT}")
            ]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a byte order mark, tab-separated.
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        return "", [
            Problem(
                row,
                "",
                "The file is not saved as UTF-8 text, so some letters "
                f"(such as accents) cannot be read. {SAVE_AS_HINT}",
            )
        ]
    if "\x00" in text:
        return "", [
            Problem(None, "", f"This is not a CSV file: it contains binary data. {SAVE_AS_HINT}")
        ]
    return text, []


def _normalize_header(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return HEADER_ALIASES.get(key, key)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Comma, semicolon (Excel in many locales) or tab, guessed from the header line."""
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        return csv.excel


@dataclass(frozen=True)
class RawRow:
    number: int
    values: dict[str, str]
    overflow: str = ""  # why the row has more values than the file has columns


def read_rows(text: str, kind: str) -> tuple[list[RawRow], list[Problem]]:
    """The data rows with their values by column, or the problems with the file's shape."""
    return read_table(text, COLUMNS[kind], what=ImportKind(kind).label.lower())


def read_table(
    text: str, columns: Columns, *, what: str, aliases: dict[str, str] | None = None
) -> tuple[list[RawRow], list[Problem]]:
    """The data rows of a CSV file of `what` with their values by column (header names
    normalised, then renamed by `aliases`), or the problems with the file's shape."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            return [], [Problem(1, "", "The first row must hold the column names.")]
        names = [_normalize_header(cell) for cell in header]
        names = [(aliases or {}).get(name, name) for name in names]
        problems = [
            Problem(1, name, "This column name appears twice.")
            for name, count in Counter(n for n in names if n).items()
            if count > 1
        ]
        missing = [name for name in columns.required if name not in names]
        if missing:
            found = ", ".join(cell.strip() for cell in header if cell.strip()) or "none"
            optional = (
                f" (and optionally {', '.join(columns.optional)})" if columns.optional else ""
            )
            problems.append(
                Problem(
                    1,
                    ", ".join(missing),
                    f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                    f"The first row must name the columns {', '.join(columns.required)}"
                    f"{optional} (found: {found}). Is this a CSV file of {what}?",
                )
            )
        if problems:
            return [], problems
        rows: list[RawRow] = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines at the end of a spreadsheet export
            if len(rows) >= MAX_ROWS:
                return [], [
                    Problem(
                        None,
                        "",
                        f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.",
                    )
                ]
            extra = [cell for cell in cells[len(names) :] if cell.strip()]
            values = {
                name: (cells[i].strip() if i < len(cells) else "")
                for i, name in enumerate(names)
                if name in columns.all
            }
            overflow = (
                f"This row has {len(cells)} values but the file has only {len(names)} columns."
                if extra
                else ""
            )
            rows.append(RawRow(number, values, overflow))
    except csv.Error as exc:
        return [], [
            Problem(
                reader.line_num or None,
                "",
                f"The file cannot be read as CSV ({exc}). {SAVE_AS_HINT}",
            )
        ]
    if not rows:
        return [], [Problem(None, "", "The file has column names but no rows.")]
    return rows, []


def _start_rows(raw_rows: list[RawRow]) -> list[PlannedRow]:
    """Planned rows with the checks every kind of import shares: overflow and lengths."""
    planned = []
    for raw in raw_rows:
        row = PlannedRow(raw.number, dict(raw.values))
        if raw.overflow:
            row.add("", raw.overflow)
        _check_lengths(row)
        planned.append(row)
    return planned


def _check_lengths(row: PlannedRow) -> None:
    for column, value in row.values.items():
        limit = MAX_LENGTHS.get(column)
        if limit and len(value) > limit:
            row.add(column, f"Too long: at most {limit} characters.")


def _resolve(
    row: PlannedRow,
    column: str,
    found: dict[str, list[Organization]],
    actor: Any,
    kinds: set[str] | None = None,
    what: str = "organization",
) -> Organization | None:
    """The organization a cell names (slug or code), checking it is within the actor's reach."""
    ref = row.values.get(column, "")
    if not ref:
        row.add(column, f"Name the {what} by its slug or code.")
        return None
    matches = found.get(ref.lower(), [])
    if kinds is not None:
        wrong = [org for org in matches if org.kind not in kinds]
        matches = [org for org in matches if org.kind in kinds]
        if not matches and wrong:
            row.add(
                column,
                f"'{ref}' is {with_article(wrong[0].get_kind_display())}, "
                f"not {with_article(what)}.",
            )
            return None
    if not matches:
        row.add(column, f"No {what} has the slug or code '{ref}'.")
        return None
    if len(matches) > 1:
        row.add(column, f"The code '{ref}' belongs to several organizations; use the slug.")
        return None
    org = matches[0]
    if not actor.has_perm("orgs.import_people", org):
        row.add(column, f"{org.name} is outside the organizations you manage.")
        return None
    return org


def _parse_role(row: PlannedRow) -> str | None:
    raw = row.values.get("role", "")
    key = "_".join(raw.lower().replace("-", " ").split())
    by_name = {value: value for value in Role.values}
    by_name.update({"_".join(str(label).lower().split()): value for value, label in Role.choices})
    if not raw:
        row.add("role", "The role is empty.")
        return None
    if key not in by_name:
        row.add("role", f"'{raw}' is not a role here. Use one of: {', '.join(Role.values)}.")
        return None
    return by_name[key]


# --- Planning people ------------------------------------------------------------------------


def plan_people(actor: Any, raw_rows: list[RawRow]) -> ImportPlan:
    plan = ImportPlan(ImportKind.PEOPLE, _start_rows(raw_rows))
    found = selectors.find_organizations({r.values.get("organization", "") for r in plan.rows})
    emails = {r.values.get("email", "").lower() for r in plan.rows}
    users = {
        u.email_lower: u
        for u in User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    }
    orgs_by_row: dict[int, Organization] = {}
    roles_by_row: dict[int, str] = {}
    first_seen: dict[tuple[str, int, str], int] = {}
    names_seen: dict[str, tuple[int, str, str]] = {}
    for row in plan.rows:
        email = row.values.get("email", "").lower()
        row.values["email"] = email
        try:
            validate_email(email)
        except ValidationError:
            row.add(
                "email",
                f"'{email}' is not a valid email address."
                if email
                else "The email address is empty.",
            )
        role = _parse_role(row)
        org = _resolve(row, "organization", found, actor)
        if org and role:
            problem = role_fit_problem(role, org)
            if problem:
                row.add("role", problem)
            key = (email, org.pk, role)
            if key in first_seen:
                row.add(
                    "email",
                    f"Duplicate: row {first_seen[key]} gives the same person, "
                    "role and organization.",
                )
            first_seen.setdefault(key, row.row)
            orgs_by_row[row.row], roles_by_row[row.row] = org, role
        names = (row.values.get("first_name", ""), row.values.get("last_name", ""))
        earlier = names_seen.setdefault(email, (row.row, *names))
        if email and earlier[0] != row.row and earlier[1:] != names and all(names):
            row.add("first_name", f"Row {earlier[0]} gives this email a different name.")

    memberships = {
        (m.user_id, m.organization_id, m.role): m
        for m in Membership.objects.filter(
            user__in=list(users.values()),
            organization__in=list(orgs_by_row.values()),
        )
    }
    created_emails: set[str] = set()
    for row in plan.rows:
        if row.problems:
            plan.counts["rows_with_problems"] += 1
            continue
        row.organization, row.role = orgs_by_row[row.row], roles_by_row[row.row]
        row.user = users.get(row.values["email"])
        _plan_person_row(row, plan.counts, memberships, created_emails)
    return plan


def _plan_person_row(
    row: PlannedRow,
    counts: Counter[str],
    memberships: dict[tuple[int, int, str], Membership],
    created_emails: set[str],
) -> None:
    """Decide what a checked row does: a new account, a new or restored role, names filled
    in, or nothing. `created_emails` remembers the accounts earlier rows create."""
    assert row.organization is not None  # set for every row without problems
    email, user = row.values["email"], row.user
    if user is None:
        row.action = "add_role" if email in created_emails else "create_user"
        counts["accounts_created"] += email not in created_emails
        counts["roles_added"] += 1
        created_emails.add(email)
        return
    # An import fills in missing names but never overwrites the ones a person chose.
    names = {f: row.values[f] for f in ("first_name", "last_name")}
    if not (user.first_name or user.last_name) and any(names.values()):
        row.changes, row.detail = names, "Names filled in."
        counts["accounts_updated"] += 1
        # In memory only: later rows of the same person then find the names already there.
        user.first_name, user.last_name = names["first_name"], names["last_name"]
    row.membership = memberships.get((user.pk, row.organization.pk, row.role))
    if row.membership is None:
        row.action = "add_role"
        counts["roles_added"] += 1
    elif not row.membership.active:
        row.action = "restore_role"
        counts["roles_restored"] += 1
    elif row.changes:
        row.action = "fill_names"
    else:
        row.action = "unchanged"
        counts["unchanged"] += 1


# --- Planning schools -----------------------------------------------------------------------


def plan_schools(actor: Any, raw_rows: list[RawRow]) -> ImportPlan:
    plan = ImportPlan(ImportKind.SCHOOLS, _start_rows(raw_rows))
    found = selectors.find_organizations({r.values.get("lea", "") for r in plan.rows})
    leas: dict[int, Organization] = {}
    code_seen: dict[str, int] = {}
    name_seen: dict[tuple[int, str], int] = {}
    for row in plan.rows:
        name, code = row.values.get("name", ""), row.values.get("code", "")
        if not name:
            row.add("name", "The school name is empty.")
        if not code:
            row.add(
                "code",
                "The school code is empty. A code (for example the state or NCES "
                "number) lets a second import update the school instead of "
                "adding it twice.",
            )
        elif code.lower() in code_seen:
            row.add("code", f"Duplicate: row {code_seen[code.lower()]} has the same code.")
        code_seen.setdefault(code.lower(), row.row)
        lea = _resolve(row, "lea", found, actor, {Organization.Kind.LEA}, "district")
        if lea:
            leas[row.row] = lea
            key = (lea.pk, name.lower())
            if name and key in name_seen:
                row.add(
                    "name",
                    f"Duplicate: row {name_seen[key]} adds a school with the same "
                    "name to this district.",
                )
            name_seen.setdefault(key, row.row)

    schools = Organization.objects.filter(kind=Organization.Kind.SCHOOL)
    by_code = {
        org.code.lower(): org
        for org in schools.filter(code__in={r.values.get("code", "") for r in plan.rows} - {""})
    }
    by_name = {
        (org.parent_id, org.name.lower()): org
        for org in schools.filter(parent__in=set(leas.values()))
    }
    for row in plan.rows:
        if not row.problems:
            _plan_school_row(row, leas[row.row], by_code, by_name)
        if row.problems:
            plan.counts["rows_with_problems"] += 1
        elif row.action == "create_school":
            plan.counts["schools_created"] += 1
        elif row.action == "update_school":
            plan.counts["schools_updated"] += 1
        else:
            plan.counts["unchanged"] += 1
    return plan


def _plan_school_row(
    row: PlannedRow,
    lea: Organization,
    by_code: dict[str, Organization],
    by_name: dict[tuple[int, str], Organization],
) -> None:
    name, code = row.values["name"], row.values["code"]
    region = row.values.get("region", "")
    row.organization = lea
    school = by_code.get(code.lower())
    named = by_name.get((lea.pk, name.lower()))
    if school is None and named is not None:
        if named.code:
            row.add(
                "code",
                f"{lea.name} already has a school named {named.name}, with the "
                f"code {named.code}. Correct the code in the file, or change it on "
                "the school's page first.",
            )
            return
        school = named  # the school exists without a code: the import adds it
    if school is None:
        row.action = "create_school"
        return
    if school.parent_id != lea.pk:
        row.add(
            "code",
            f"The code {code} belongs to a school in another district. Moving a "
            "school to another district is not done by import.",
        )
        return
    if named is not None and named.pk != school.pk:
        row.add("name", f"{lea.name} already has another school named {named.name}.")
        return
    wanted = {"name": name, "code": code}
    if "region" in row.values and region:
        wanted["region"] = region
    row.school = school
    row.changes = {f: v for f, v in wanted.items() if getattr(school, f) != v}
    row.action = "update_school" if row.changes else "unchanged"
    if row.changes:
        row.detail = "Changes: " + ", ".join(
            f"{f} '{getattr(school, f)}' to '{v}'" for f, v in row.changes.items()
        )


def build_plan(actor: Any, kind: str, text: str) -> ImportPlan:
    """The dry run: what importing this text would do, with every problem found."""
    if kind == ImportKind.ONEROSTER:
        from . import oneroster  # it builds on this module

        return oneroster.build_plan(actor, text)
    rows, problems = read_rows(text, kind)
    if problems:
        return ImportPlan(kind, file_problems=problems)
    planner = plan_people if kind == ImportKind.PEOPLE else plan_schools
    return planner(actor, rows)
