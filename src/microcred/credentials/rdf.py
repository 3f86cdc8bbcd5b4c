"""JSON-LD to RDF (the JSON-LD 1.1 "Deserialize JSON-LD to RDF" algorithm), fast for credentials.

pyld spends most of a credential's canonicalization re-processing the same few contexts and
building the expanded form and node map. Here one walk over the compact document emits quads
directly (fast_rdf.py), with every processed active context cached per (parent context, local
context) (active_context.py): an Open Badges credential meets the same dozen contexts every time,
so context processing (done by pyld itself, so its semantics and errors are pyld's) happens once
per process.

The walk mirrors pyld's expansion step by step for what credentials use: scoped contexts (type-
and property-scoped, with the type-scoped revert rule), `@protected`, `@set`/`@list`/`@graph`
containers, `@json`, typed, language-tagged and directional values, lists, named graphs.
Anything rarer (`@reverse`, `@nest`, `@included`, index/language/id/type maps, malformed input)
raises `Fallback` and the document goes through pyld's own expand + node map + toRdf instead, so
every input gets an answer, and one identical to pyld's (tests/credentials check this with
generated documents), except where pyld departs from the specification:

- no base IRI: relative IRIs stay relative and their triples are dropped (JSON-LD 1.1 toRdf and
  jsonld.js), where pyld 3 resolves them against http://example.org/base/;
- a *string* typed xsd:double stays as written (jsonld.js); pyld rewrites it as a double (a
  document that takes the pyld path keeps that quirk; credentials never contain such strings).

Both paths turn a string with a base direction (`@direction`, as in VC 2.0's language and
direction values) into a literal typed `https://www.w3.org/ns/i18n#<language>_<direction>`, the
language lowercased: JSON-LD 1.1's rdfDirection "i18n-datatype" mode, the one Digital Bazaar's
eddsa-rdfc-2022 canonicalizes with. pyld's default (no rdfDirection) keeps only the language, so
the pyld path sets the option; without it our proofs and theirs disagreed.

Like pyld and jsonld.js, and unlike a strict reading of RDF (where a dataset is a set), a quad can
occur twice: each list is its own value, so an empty list twice on one node (two occurrences of
the same @id with `"allowedValue": []`) gives `rdf:nil` twice, and both references canonicalize
each occurrence as a line of its own. Signatures must agree with theirs, so ours do too (see
fast_rdf.py for which repeats are kept).

The walk also records what the document loses on the way to RDF (terms the contexts do not
define, types and ids that are not absolute IRIs): `Dataset.issues`, which the signing guard
turns into an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdError, JsonLdProcessor

from . import nquads
from .active_context import is_absolute, pyld_options
from .fast_rdf import NOT_DEFINED, Fallback, arrayify, walk_document
from .loader import ContextError
from .nquads import Quad

# JSON-LD 1.1's rdfDirection option: how a value's base direction (@direction) reaches RDF.
RDF_DIRECTION = "i18n-datatype"


class JsonLdProcessingError(ValueError):
    """The document is not valid JSON-LD (or uses a context we cannot load)."""


class UndefinedTermError(ValueError):
    """Signing refused: part of the document would not be covered by the signature."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__(
            "The credential uses terms its @context does not define, so they would be left out "
            "of what is signed: " + "; ".join(issues)
        )


@dataclass
class Dataset:
    quads: list[Quad]  # in no particular order; may repeat a quad, as toRdf does (see above)
    issues: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.issues = list(dict.fromkeys(self.issues))  # once each, in document order


def _pyld_term(term: dict) -> str:
    if term["type"] == "IRI":
        return nquads.iri(term["value"])
    if term["type"] == "blank node":
        return term["value"]
    if term.get("datatype") == nquads.RDF_LANGSTRING:
        return nquads.literal(term["value"], nquads.RDF_LANGSTRING, term.get("language"))
    return nquads.literal(term["value"], term["datatype"])


def _relative_iris(node: Any, issues: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _relative_iris(item, issues)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@id" and isinstance(value, str) and not is_absolute(value):
            issues.append(f"id {value!r} is {NOT_DEFINED}")
        elif key == "@type" and "@value" not in node:
            for name in arrayify(value):
                if isinstance(name, str) and not is_absolute(name):
                    issues.append(f"type {name!r} is {NOT_DEFINED}")
        else:
            _relative_iris(value, issues)


def _with_pyld(document: Any) -> Dataset:
    issues: list[str] = []

    def dropped(expanded_property: str | None) -> None:
        name = expanded_property if expanded_property is not None else "(a term mapped to null)"
        issues.append(f"term {name!r} is not defined by the @context")

    processor = JsonLdProcessor(on_property_dropped=dropped)
    # Strings with a base direction become i18n-datatype literals, as in the fast path
    # (nquads.i18n_datatype) and in Digital Bazaar's eddsa-rdfc-2022; pyld's default drops the
    # direction, and a signature over that would verify nowhere else.
    options = {**pyld_options(), "rdfDirection": RDF_DIRECTION}
    expanded = processor.expand(document, options)
    _relative_iris(expanded, issues)
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, dict] = {"@default": {}}
    processor._create_node_map(expanded, node_map, "@default", issuer)
    quads: list[Quad] = []
    for graph_name, graph in node_map.items():
        if graph_name == "@default":
            name = ""
        elif is_absolute(graph_name):
            name = graph_name if graph_name[:2] == "_:" else nquads.iri(graph_name)
        else:
            continue
        for triple in processor._graph_to_rdf(graph, issuer, options):
            quads.append(
                (
                    _pyld_term(triple["subject"]),
                    _pyld_term(triple["predicate"]),
                    _pyld_term(triple["object"]),
                    name,
                )
            )
    return Dataset(quads, issues)


def _context_error(error: BaseException) -> ContextError | None:
    seen = error
    while seen is not None:
        if isinstance(seen, ContextError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def to_dataset(document: Any) -> Dataset:
    """The RDF dataset of a JSON-LD document, with a list of what it could not express."""
    try:
        try:
            return Dataset(*walk_document(document))
        except (Fallback, TypeError, ValueError, AttributeError, KeyError):
            # Anything unusual, malformed input included, is pyld's to judge.
            return _with_pyld(document)
    except RecursionError as error:
        raise JsonLdProcessingError(
            "Not valid JSON-LD: the document is nested too deeply"
        ) from error
    except (JsonLdError, TypeError, ValueError, AttributeError, KeyError) as error:
        context_error = _context_error(error)
        if context_error is not None:
            raise context_error from error
        raise JsonLdProcessingError(f"Not valid JSON-LD: {error}") from error


def check_terms(document: Any) -> Dataset:
    """The document's dataset, or UndefinedTermError naming every term RDF would lose."""
    dataset = to_dataset(document)
    if dataset.issues:
        raise UndefinedTermError(dataset.issues)
    return dataset
