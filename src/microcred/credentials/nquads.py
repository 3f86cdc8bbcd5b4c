"""RDF terms as canonical N-Quads text (RDF Dataset Canonicalization, RDFC-1.0, section 4.1).

Quads are tuples `(subject, predicate, object, graph)` of already-serialized terms; the default
graph is "". Keeping terms serialized makes canonicalization mostly string work: a blank node is
any term starting with "_:", and a quad's line is its terms joined by spaces.

Escaping follows RDFC-1.0 / RDF 1.2 canonical N-Quads, as Digital Bazaar's rdf-canonize does:
in literals \\b \\t \\n \\f \\r \\" \\\\ as ECHAR and other control characters as \\uXXXX; in IRIs
control characters, space and <>"{}|^`\\ as \\uXXXX. (pyld escapes only \\t \\n \\r \\" \\\\ and
never IRIs, so it differs from the specification on such characters.)
"""

from __future__ import annotations

import math
import re

from pyld.jsonld import canonicalize as _jcs

Quad = tuple[str, str, str, str]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
RDF_LANGSTRING = RDF + "langString"
RDF_JSON = RDF + "JSON"
# JSON-LD 1.1's i18n-datatype mode (rdfDirection): a string with a base direction becomes a literal
# typed I18N + "<language>_<direction>", the mode Digital Bazaar's eddsa-rdfc-2022 signs with.
I18N = "https://www.w3.org/ns/i18n#"

RDF_TYPE = f"<{RDF}type>"
RDF_FIRST = f"<{RDF}first>"
RDF_REST = f"<{RDF}rest>"
RDF_NIL = f"<{RDF}nil>"

_LITERAL_SPECIAL = re.compile(r'[\x00-\x1f\x7f"\\]')
_IRI_SPECIAL = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _uchar(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04X}"


def _literal_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def iri(value: str) -> str:
    if _IRI_SPECIAL.search(value):
        value = _IRI_SPECIAL.sub(_uchar, value)
    return f"<{value}>"


def literal(lexical: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    if _LITERAL_SPECIAL.search(lexical):
        lexical = _LITERAL_SPECIAL.sub(_literal_char, lexical)
    if datatype == RDF_LANGSTRING:
        # An empty language tag is written as nothing, as rdf-canonize and pyld both do.
        return f'"{lexical}"@{language}' if language else f'"{lexical}"'
    if datatype == XSD_STRING:
        return f'"{lexical}"'
    return f'"{lexical}"^^{iri(datatype)}'


def canonical_double(value: float) -> str:
    """xsd:double canonical form as JSON-LD's toRdf writes it (1.5 -> 1.5E0)."""
    text = f"{value:1.15E}"
    mantissa, exponent = text.split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def i18n_datatype(language: str | None, direction: str) -> str:
    """The datatype of a directional string in i18n-datatype mode (JSON-LD 1.1 API, Object to
    RDF Conversion): the language lowercased, as jsonld.js writes it; with no language, I18N +
    "_rtl" (or "_ltr")."""
    return f"{I18N}{(language or '').lower()}_{direction}"


def value_literal(
    value: object, datatype: str | None, language: str | None, direction: str | None = None
) -> str | None:
    """The literal for a JSON-LD value object (JSON-LD 1.1 API, Object to RDF Conversion).

    `direction` ("ltr"/"rtl") follows rdfDirection "i18n-datatype": it only applies to strings,
    after booleans and numbers, in the specification's order. Returns None for values with no RDF
    form here (non-finite numbers), letting callers fall back.
    """
    if datatype == "@json":
        return literal(_jcs(value).decode("utf-8"), RDF_JSON)
    if isinstance(value, bool):
        return literal("true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if not value.is_integer() or datatype == XSD_DOUBLE or abs(value) >= 1e21:
            return literal(canonical_double(value), datatype or XSD_DOUBLE)
        return literal(str(int(value)), datatype or XSD_INTEGER)
    if isinstance(value, int):
        if datatype == XSD_DOUBLE or abs(value) >= 1e21:
            return literal(canonical_double(float(value)), datatype or XSD_DOUBLE)
        return literal(str(value), datatype or XSD_INTEGER)
    if not isinstance(value, str):
        return None
    if direction is not None and datatype is None:
        return literal(value, i18n_datatype(language, direction))
    if language is not None and datatype is None:
        return literal(value, RDF_LANGSTRING, language)
    return literal(value, datatype or XSD_STRING)


def serialize(quad: Quad) -> str:
    s, p, o, g = quad
    if g:
        return f"{s} {p} {o} {g} .\n"
    return f"{s} {p} {o} .\n"
