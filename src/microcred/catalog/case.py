"""CASE (1EdTech Competencies and Academic Standards Exchange 1.0) packages: parse, validate and
import them as StandardFramework / StandardItem / StandardAssociation.

A package is `{"CFDocument": {...}, "CFItems": [...], "CFAssociations": [...],
"CFDefinitions": {...}}`. Validation reads the whole package first and names the path of every
problem (`CFItems[3].identifier: ...`), so a state office can fix its file in one pass; the
import then runs in one transaction, so a bad file changes nothing. Re-importing a package
updates the framework in place by identifier: no duplicates, and nothing aligned to a
micro-credential is ever deleted.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from microcred.orgs.services import record_audit

from .models import StandardAssociation, StandardFramework, StandardItem

CHILD_OF = "isChildOf"
# CASE 1.0 association types; anything else is refused so a typo does not import silently.
ASSOCIATION_TYPES = frozenset(
    {
        "isChildOf",
        "isPeerOf",
        "isPartOf",
        "exactMatchOf",
        "precedes",
        "isRelatedTo",
        "replacedBy",
        "exemplar",
        "hasSkillLevel",
    }
)

# Column sizes of the standards tables: longer values are refused up front rather than failing
# (or being cut) in the database.
_MAX_LENGTH = {
    "uri": 500,
    "title": 255,
    "creator": 255,
    "publisher": 255,
    "version": 50,
    "adoptionStatus": 50,
    "language": 10,
    "humanCodingScheme": 80,
    "abbreviatedStatement": 255,
    "CFItemType": 80,
}


# ---------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class CasePackageError(ValidationError):
    """The package cannot be imported; `problems` names each one with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__([str(p) for p in problems])


# ---------------------------------------------------------------------------- parsed package
@dataclass
class DocumentSpec:
    identifier: uuid.UUID
    uri: str
    title: str
    creator: str
    publisher: str
    description: str
    version: str
    adoption_status: str
    language: str
    last_change: datetime | None


@dataclass
class ItemSpec:
    identifier: uuid.UUID
    uri: str
    full_statement: str
    abbreviated_statement: str
    human_coding_scheme: str
    item_type: str
    position: int  # place in CFItems, the last resort for ordering siblings
    list_enumeration: str
    parent: uuid.UUID | None = None
    sequence: int | None = None


@dataclass
class AssociationSpec:
    identifier: uuid.UUID
    association_type: str
    origin: uuid.UUID
    destination: uuid.UUID
    sequence: int | None


@dataclass
class CasePackage:
    document: DocumentSpec
    items: list[ItemSpec]
    # Every association but the isChildOf links that became an item's parent.
    associations: list[AssociationSpec]


@dataclass
class ImportReport:
    framework_title: str
    framework_identifier: uuid.UUID
    framework_created: bool
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    associations_created: int = 0
    associations_updated: int = 0
    associations_removed: int = 0
    # Items that left the package: deleted, or kept because micro-credentials align to them.
    items_removed: list[str] = field(default_factory=list)
    items_kept_aligned: list[str] = field(default_factory=list)
    dry_run: bool = False
    framework_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.framework_created
            or self.items_created
            or self.items_updated
            or self.associations_created
            or self.associations_updated
            or self.associations_removed
            or self.items_removed
        )

    def summary_lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        lines = [
            f"Framework '{self.framework_title}' ({self.framework_identifier}) "
            f"{'created' if self.framework_created else 'updated'}"
            f"{' (dry run)' if self.dry_run else ''}.",
            f"Items: {self.items_created} created, {self.items_updated} updated, "
            f"{self.items_unchanged} unchanged.",
            f"Associations: {self.associations_created} created, "
            f"{self.associations_updated} updated, {self.associations_removed} removed.",
        ]
        if self.items_removed:
            lines.append(
                f"{len(self.items_removed)} items no longer in the package {verb} removed: "
                + ", ".join(self.items_removed)
            )
        if self.items_kept_aligned:
            lines.append(
                f"{len(self.items_kept_aligned)} items no longer in the package {verb} kept "
                "because micro-credentials are aligned to them: "
                + ", ".join(self.items_kept_aligned)
            )
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        return lines


# ---------------------------------------------------------------------------- reading
def parse_package_text(text: str | bytes) -> dict[str, Any]:
    """The JSON object of a package, or a CasePackageError saying why it is not one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CasePackageError(
                [Problem("(file)", f"is not UTF-8 text (byte {exc.start} cannot be read).")]
            ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CasePackageError(
            [
                Problem(
                    "(file)",
                    f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                )
            ]
        ) from exc
    if not isinstance(data, dict):
        raise CasePackageError(
            [Problem("(file)", "must hold one JSON object with a CFDocument, not a list or value.")]
        )
    return data


def read_package_file(path: str | Path) -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CasePackageError(
            [Problem("(file)", f"cannot be read: {exc.strerror or exc}.")]
        ) from exc
    return parse_package_text(raw)


class _Reader:
    """Collects problems while reading loosely typed JSON into the specs above."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                self.add(f"{path}.{key}", "is required.")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(f"{path}.{key}", "must be text.")
            return ""
        value = str(value).strip()
        if required and not value:
            self.add(f"{path}.{key}", "is required.")
        limit = _MAX_LENGTH.get(key)
        if limit and len(value) > limit:
            self.add(f"{path}.{key}", f"is {len(value)} characters long; at most {limit} fit.")
        return value

    def identifier(self, obj: dict[str, Any], path: str) -> uuid.UUID | None:
        value = obj.get("identifier")
        if value is None or value == "":
            self.add(f"{path}.identifier", "is required.")
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            self.add(f"{path}.identifier", f"'{value}' is not a UUID.")
            return None

    def integer(self, obj: dict[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.add(f"{path}.{key}", "must be a whole number.")
            return None
        try:
            number = int(value)
        except ValueError:
            self.add(f"{path}.{key}", f"'{value}' is not a whole number.")
            return None
        if number < 0:
            self.add(f"{path}.{key}", "must not be negative.")
            return None
        return number

    def timestamp(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        value = obj.get(key)
        if not value:
            return None
        parsed = parse_datetime(str(value)) if isinstance(value, str) else None
        if parsed is None:
            self.add(f"{path}.{key}", f"'{value}' is not an ISO 8601 date and time.")
        elif timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)  # CASE times without a zone are UTC
        return parsed

    def objects(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(key, "must be a list.")
            return []
        found = []
        for i, obj in enumerate(value):
            if isinstance(obj, dict):
                found.append((f"{key}[{i}]", obj))
            else:
                self.add(f"{key}[{i}]", "must be an object.")
        return found


def _read_document(reader: _Reader, data: dict[str, Any]) -> DocumentSpec | None:
    doc = data.get("CFDocument")
    if not isinstance(doc, dict):
        reader.add(
            "CFDocument",
            "is missing: a CASE package must start with the CFDocument that describes it."
            if doc is None
            else "must be an object.",
        )
        return None
    path = "CFDocument"
    identifier = reader.identifier(doc, path)
    spec = DocumentSpec(
        identifier=identifier or uuid.UUID(int=0),
        uri=reader.text(doc, "uri", path),
        title=reader.text(doc, "title", path, required=True),
        creator=reader.text(doc, "creator", path),
        publisher=reader.text(doc, "publisher", path),
        description=reader.text(doc, "description", path),
        version=reader.text(doc, "version", path),
        adoption_status=reader.text(doc, "adoptionStatus", path),
        language=reader.text(doc, "language", path),
        last_change=reader.timestamp(doc, "lastChangeDateTime", path),
    )
    return spec if identifier else None


def _read_items(
    reader: _Reader, data: dict[str, Any], seen: dict[uuid.UUID, str]
) -> list[ItemSpec]:
    items = []
    for position, (path, obj) in enumerate(reader.objects(data, "CFItems")):
        identifier = reader.identifier(obj, path)
        statement = reader.text(obj, "fullStatement", path, required=True)
        spec = ItemSpec(
            identifier=identifier or uuid.UUID(int=0),
            uri=reader.text(obj, "uri", path),
            full_statement=statement,
            abbreviated_statement=reader.text(obj, "abbreviatedStatement", path),
            human_coding_scheme=reader.text(obj, "humanCodingScheme", path),
            item_type=reader.text(obj, "CFItemType", path) or _type_from_uri(obj),
            position=position,
            list_enumeration=reader.text(obj, "listEnumeration", path),
        )
        if identifier is None:
            continue
        if identifier in seen:
            reader.add(
                f"{path}.identifier", f"{identifier} is used twice (also by {seen[identifier]})."
            )
            continue
        seen[identifier] = path
        items.append(spec)
    return items


def _type_from_uri(obj: dict[str, Any]) -> str:
    """Some publishers name the item type only in its CFItemTypeURI link."""
    link = obj.get("CFItemTypeURI")
    title = link.get("title") if isinstance(link, dict) else None
    return title.strip()[: _MAX_LENGTH["CFItemType"]] if isinstance(title, str) else ""


def _node_reference(reader: _Reader, obj: dict[str, Any], key: str, path: str) -> uuid.UUID | None:
    ref = obj.get(key)
    if not isinstance(ref, dict):
        reader.add(f"{path}.{key}", "is required: an object with the node's identifier and uri.")
        return None
    return reader.identifier(ref, f"{path}.{key}")


def _read_associations(
    reader: _Reader, data: dict[str, Any], nodes: dict[uuid.UUID, str]
) -> list[tuple[str, AssociationSpec]]:
    found = []
    seen: dict[uuid.UUID, str] = {}
    for path, obj in reader.objects(data, "CFAssociations"):
        identifier = reader.identifier(obj, path)
        kind = reader.text(obj, "associationType", path, required=True)
        if kind and kind not in ASSOCIATION_TYPES:
            reader.add(
                f"{path}.associationType",
                f"'{kind}' is not a CASE association type "
                f"({', '.join(sorted(ASSOCIATION_TYPES))}).",
            )
        origin = _node_reference(reader, obj, "originNodeURI", path)
        destination = _node_reference(reader, obj, "destinationNodeURI", path)
        sequence = reader.integer(obj, "sequenceNumber", path)
        if identifier is not None:
            if identifier in seen or identifier in nodes:
                other = seen.get(identifier) or nodes[identifier]
                reader.add(f"{path}.identifier", f"{identifier} is used twice (also by {other}).")
                continue
            seen[identifier] = path
        if identifier is None or origin is None or destination is None:
            continue
        if kind not in ASSOCIATION_TYPES:
            continue
        if kind == CHILD_OF:
            # The tree must stay inside the package: a parent elsewhere cannot be shown.
            for key, node in (("originNodeURI", origin), ("destinationNodeURI", destination)):
                if node not in nodes:
                    reader.add(
                        f"{path}.{key}",
                        f"points at {node}, which is neither the CFDocument nor an item of "
                        "this package.",
                    )
            if nodes.get(origin) == "CFDocument":
                reader.add(f"{path}.originNodeURI", "the CFDocument cannot be the child of a node.")
        elif origin not in nodes and destination not in nodes:
            # Other associations may reach into another framework, but one end must be ours.
            reader.add(
                path,
                f"links {origin} and {destination}, neither of which is in this package.",
            )
        found.append((path, AssociationSpec(identifier, kind, origin, destination, sequence)))
    return found


def _build_tree(
    reader: _Reader,
    document: DocumentSpec,
    items: list[ItemSpec],
    associations: list[tuple[str, AssociationSpec]],
) -> list[AssociationSpec]:
    """Give each item its parent and sequence from its first isChildOf; return the other
    associations (including extra isChildOf links of an item reused under a second parent)."""
    by_id = {item.identifier: item for item in items}
    others: list[AssociationSpec] = []
    link_path: dict[uuid.UUID, str] = {}
    for path, assoc in associations:
        child = by_id.get(assoc.origin)
        if assoc.association_type != CHILD_OF or child is None or child.identifier in link_path:
            others.append(assoc)
            continue
        if assoc.destination != document.identifier:
            child.parent = assoc.destination
        child.sequence = assoc.sequence
        link_path[child.identifier] = path
    for item in items:
        if item.sequence is None:
            enumeration = item.list_enumeration
            item.sequence = int(enumeration) if enumeration.isdigit() else item.position + 1
    _check_cycles(reader, by_id, link_path)
    return others


def _check_cycles(
    reader: _Reader, by_id: dict[uuid.UUID, ItemSpec], link_path: dict[uuid.UUID, str]
) -> None:
    reported: set[uuid.UUID] = set()
    for start in by_id.values():
        chain: list[uuid.UUID] = []
        node: ItemSpec | None = start
        while node is not None and node.identifier not in chain:
            if node.identifier in reported:
                break
            chain.append(node.identifier)
            node = by_id.get(node.parent) if node.parent else None
        if node is None or node.identifier in reported or node.identifier not in chain:
            continue
        loop = chain[chain.index(node.identifier) :]
        reported.update(loop)
        names = [by_id[i].human_coding_scheme or str(i) for i in [*loop, loop[0]]]
        reader.add(
            link_path[loop[-1]],
            "isChildOf links form a cycle: " + " -> ".join(names) + ".",
        )


def validate_package(data: Any) -> CasePackage:
    """The package as specs, or a CasePackageError naming every problem found."""
    reader = _Reader()
    if not isinstance(data, dict):
        raise CasePackageError([Problem("(file)", "must hold one JSON object with a CFDocument.")])
    document = _read_document(reader, data)
    nodes: dict[uuid.UUID, str] = {}
    if document is not None:
        nodes[document.identifier] = "CFDocument"
    items = _read_items(reader, data, nodes)
    if not items and "CFItems" not in data:
        reader.add("CFItems", "is missing: the package has no standards to import.")
    associations = _read_associations(reader, data, nodes)
    if reader.problems or document is None:
        raise CasePackageError(reader.problems)
    others = _build_tree(reader, document, items, associations)
    if reader.problems:
        raise CasePackageError(reader.problems)
    return CasePackage(document=document, items=items, associations=others)


# ---------------------------------------------------------------------------- importing
_ITEM_FIELDS = (
    "uri",
    "human_coding_scheme",
    "full_statement",
    "abbreviated_statement",
    "item_type",
    "sequence",
)
_FRAMEWORK_FIELDS = (
    "uri",
    "title",
    "creator",
    "publisher",
    "description",
    "version",
    "adoption_status",
    "language",
    "last_change",
)


class _DryRunRollback(Exception):
    """Raised at the end of a dry run so the transaction undoes everything it wrote."""


def _check_ownership(package: CasePackage, framework: StandardFramework | None) -> None:
    """Identifiers are global: an item or association of another framework cannot be taken."""
    problems = []
    mine = framework.pk if framework else None
    item_ids = [i.identifier for i in package.items]
    for identifier, title in (
        StandardItem.objects.filter(identifier__in=item_ids)
        .exclude(framework_id=mine)
        .values_list("identifier", "framework__title")
    ):
        problems.append(
            Problem(
                f"CFItems[{item_ids.index(identifier)}].identifier",
                f"{identifier} already belongs to the framework '{title}'.",
            )
        )
    assoc_ids = [a.identifier for a in package.associations]
    for identifier, title in (
        StandardAssociation.objects.filter(identifier__in=assoc_ids)
        .exclude(framework_id=mine)
        .values_list("identifier", "framework__title")
    ):
        problems.append(
            Problem("CFAssociations", f"{identifier} already belongs to the framework '{title}'.")
        )
    if problems:
        raise CasePackageError(problems)


def _upsert_framework(doc: DocumentSpec) -> tuple[StandardFramework, bool]:
    framework = StandardFramework.objects.filter(identifier=doc.identifier).first()
    created = framework is None
    if framework is None:
        framework = StandardFramework(identifier=doc.identifier)
    for name in _FRAMEWORK_FIELDS:
        setattr(framework, name, getattr(doc, name))
    framework.save()
    return framework, created


def _upsert_items(
    framework: StandardFramework, specs: list[ItemSpec], report: ImportReport
) -> None:
    existing = {i.identifier: i for i in framework.items.all()}
    new, changed = [], []
    for spec in specs:
        item = existing.get(spec.identifier)
        if item is None:
            new.append(
                StandardItem(
                    framework=framework,
                    identifier=spec.identifier,
                    **{f: getattr(spec, f) for f in _ITEM_FIELDS},
                )
            )
            continue
        diff = [f for f in _ITEM_FIELDS if getattr(item, f) != getattr(spec, f)]
        for name in diff:
            setattr(item, name, getattr(spec, name))
        if diff:
            changed.append(item)
    StandardItem.objects.bulk_create(new)
    StandardItem.objects.bulk_update(changed, list(_ITEM_FIELDS))
    report.items_created = len(new)

    # Parents need every item to exist first, so they are set in a second pass.
    by_identifier = {i.identifier: i for i in framework.items.all()}
    reparented = []
    for spec in specs:
        item = by_identifier[spec.identifier]
        parent_id = by_identifier[spec.parent].pk if spec.parent else None
        if item.parent_id != parent_id:
            item.parent_id = parent_id
            reparented.append(item)
    StandardItem.objects.bulk_update(reparented, ["parent"])
    updated = {i.identifier for i in changed} | {
        i.identifier for i in reparented if i.identifier in existing
    }
    report.items_updated = len(updated)
    report.items_unchanged = len(specs) - len(new) - len(updated)

    wanted = {s.identifier for s in specs}
    for identifier, item in existing.items():
        if identifier in wanted:
            continue
        label = str(item)
        if item.alignments.exists():
            report.items_kept_aligned.append(label)
        else:
            item.delete()
            report.items_removed.append(label)


def _upsert_associations(
    framework: StandardFramework, specs: list[AssociationSpec], report: ImportReport
) -> None:
    fields = ("association_type", "origin_identifier", "destination_identifier", "sequence")
    existing = {a.identifier: a for a in framework.associations.all()}
    new, changed = [], []
    for spec in specs:
        values = {
            "association_type": spec.association_type,
            "origin_identifier": spec.origin,
            "destination_identifier": spec.destination,
            "sequence": spec.sequence,
        }
        assoc = existing.get(spec.identifier)
        if assoc is None:
            new.append(
                StandardAssociation(framework=framework, identifier=spec.identifier, **values)
            )
        elif any(getattr(assoc, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(assoc, k, v)
            changed.append(assoc)
    StandardAssociation.objects.bulk_create(new)
    StandardAssociation.objects.bulk_update(changed, list(fields))
    stale = set(existing) - {s.identifier for s in specs}
    framework.associations.filter(identifier__in=stale).delete()
    report.associations_created = len(new)
    report.associations_updated = len(changed)
    report.associations_removed = len(stale)


def import_case_package(data: Any, *, actor: Any = None, dry_run: bool = False) -> ImportReport:
    """Validate and import a CASE package as a whole, or raise CasePackageError and change
    nothing. With `dry_run` the import runs to the end, reports, and is rolled back."""
    package = validate_package(data)
    doc = package.document
    report = ImportReport(
        framework_title=doc.title,
        framework_identifier=doc.identifier,
        framework_created=False,
        dry_run=dry_run,
    )
    try:
        with transaction.atomic():
            existing = (
                StandardFramework.objects.select_for_update()
                .filter(identifier=doc.identifier)
                .first()
            )
            _check_ownership(package, existing)
            framework, report.framework_created = _upsert_framework(doc)
            _upsert_items(framework, package.items, report)
            _upsert_associations(framework, package.associations, report)
            if dry_run:
                raise _DryRunRollback
            report.framework_id = framework.pk
            if report.changed:
                record_audit(
                    actor,
                    "catalog.standards.imported",
                    framework,
                    data={
                        "items_created": report.items_created,
                        "items_updated": report.items_updated,
                        "items_removed": len(report.items_removed),
                        "items_kept_aligned": len(report.items_kept_aligned),
                        "associations_created": report.associations_created,
                        "associations_updated": report.associations_updated,
                        "associations_removed": report.associations_removed,
                    },
                )
    except _DryRunRollback:
        pass
    except IntegrityError as exc:
        # Two uploads of the same new framework at once: the second meets the first's rows.
        raise CasePackageError(
            [Problem("(package)", "was imported by someone else at the same moment; try again.")]
        ) from exc
    return report
