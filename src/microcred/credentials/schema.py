"""JSON Schema checks of credentials against 1EdTech's published schemas, offline.

The schemas are vendored in `schemas/` and listed in `schemas/manifest.json` with their SHA-256,
the ids credentials use for them (`credentialSchema[].id`, the schema's own `$id`) and the
credential types they describe. A file whose bytes do not match its hash is refused. Validation
is JSON Schema draft 2019-09 (`jsonschema` with a `referencing` registry holding only vendored
schemas, so a `$ref` elsewhere fails instead of reaching the network); `format` stays an
annotation, as draft 2019-09 defines it (dates are checked by the verifier's dates check).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from .verification import Status, VerificationReport

SCHEMAS_DIR = Path(__file__).with_name("schemas")
MANIFEST_PATH = SCHEMAS_DIR / "manifest.json"
# Open Badges 3.0 moved to the VC 2.0 data model; credentials still on VC 1.1 (this context,
# issuanceDate) predate the current schema, so its verdict on them is only advice.
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
MAX_REPORTED_ERRORS = 5


class SchemaIntegrityError(RuntimeError):
    """A vendored schema no longer matches the hash in the manifest."""


@dataclass(frozen=True)
class Schema:
    title: str
    ids: tuple[str, ...]
    types: frozenset[str]
    validator: Draft201909Validator


def _refuse_retrieval(uri: str) -> Resource:
    raise NoSuchResource(ref=uri)


@cache
def schemas() -> tuple[Schema, ...]:
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    loaded: list[tuple[dict, dict]] = []
    for name, entry in manifest.items():
        data = (SCHEMAS_DIR / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise SchemaIntegrityError(
                f"Vendored schema {name} has sha256 {digest}, manifest says {entry['sha256']}."
            )
        loaded.append((json.loads(data), entry))
    registry: Registry = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]
    for document, entry in loaded:
        resource = Resource.from_contents(document)
        registry = registry.with_resources((schema_id, resource) for schema_id in entry["ids"])
    return tuple(
        Schema(
            entry["title"],
            tuple(entry["ids"]),
            frozenset(entry["types"]),
            Draft201909Validator(document, registry=registry),
        )
        for document, entry in loaded
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def schema_for(credential: dict) -> Schema | None:
    """The schema the credential names in credentialSchema, else the one for its type."""
    named = {
        entry.get("id")
        for entry in _as_list(credential.get("credentialSchema"))
        if isinstance(entry, dict)
    }
    types = {t for t in _as_list(credential.get("type")) if isinstance(t, str)}
    for schema in schemas():
        if named & set(schema.ids):
            return schema
    return next((schema for schema in schemas() if types & schema.types), None)


def schema_errors(credential: Any, schema: Schema) -> list[str]:
    """Each violation as '<JSON path>: <what is wrong>', sorted by path."""
    return sorted(
        f"{error.json_path}: {error.message}" for error in schema.validator.iter_errors(credential)
    )


def check_schema(credential: Any, report: VerificationReport) -> None:
    """Add the "schema" check to the report."""
    if not isinstance(credential, dict):
        report.add("schema", Status.FAILED, "A credential is a JSON object; this is not one.")
        return
    schema = schema_for(credential)
    if schema is None:
        types = ", ".join(str(t) for t in _as_list(credential.get("type"))) or "none"
        report.add(
            "schema",
            Status.SKIPPED,
            f"No JSON Schema is known here for this kind of credential (type: {types}); this "
            "verifier ships the Open Badges 3.0 schema.",
        )
        return
    errors = schema_errors(credential, schema)
    if not errors:
        report.add("schema", Status.PASSED, f"It matches the {schema.title} JSON Schema.")
        return
    shown = "; ".join(errors[:MAX_REPORTED_ERRORS])
    more = len(errors) - MAX_REPORTED_ERRORS
    listing = shown + (f"; and {more} more" if more > 0 else "")
    if VC1_CONTEXT in _as_list(credential.get("@context")):
        report.add(
            "schema",
            Status.WARNING,
            "This credential uses the older Verifiable Credentials 1.1 data model, which the "
            f"current {schema.title} JSON Schema no longer accepts ({listing}).",
        )
        return
    report.add(
        "schema",
        Status.FAILED,
        f"It does not match the {schema.title} JSON Schema: {listing}.",
    )
