"""Our RDFC-1.0 canonicalization against pyld's, byte for byte, on generated documents."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from pyld import jsonld

from microcred.credentials import canonicalize, document_loader, fast_rdf
from microcred.credentials.nquads import XSD_INTEGER, literal
from microcred.credentials.rdf import JsonLdProcessingError

from .conftest import load_fixture
from .strategies import OB303, V2, blank_node_graphs, credentials

# Derandomized on CI so a red build can be replayed; random locally so new cases keep coming.
# MICROCRED_PROPERTY_EXAMPLES=5000 runs a longer search once, without slowing the default run.
PROPERTY = settings(
    max_examples=int(os.environ.get("MICROCRED_PROPERTY_EXAMPLES", "120")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pyld_canonical(document: dict) -> str:
    return jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
            # The mode Digital Bazaar's eddsa-rdfc-2022 canonicalizes with (and so do we).
            "rdfDirection": "i18n-datatype",
        },
    )


@PROPERTY
@given(credentials())
def test_credentials_canonicalize_exactly_as_pyld(credential):
    assert canonicalize(credential) == pyld_canonical(credential)


@PROPERTY
@given(blank_node_graphs())
def test_look_alike_blank_nodes_canonicalize_exactly_as_pyld(document):
    assert canonicalize(document) == pyld_canonical(document)


@pytest.mark.parametrize(
    "name", ["ob30_complete.json", "clr20_simple.json", "ob30_simple-eddsa-2022.json"]
)
def test_fixtures_with_their_proofs_canonicalize_exactly_as_pyld(name):
    credential = load_fixture(name)
    assert canonicalize(credential) == pyld_canonical(credential)


def test_symmetric_blank_nodes_take_the_n_degree_path_and_agree():
    # A ring of three identical nodes: every first-degree hash is the same.
    document = {
        "@context": {"@vocab": "http://example.org/", "next": {"@type": "@id"}},
        "@graph": [
            {"@id": "_:a", "next": "_:b", "v": 1},
            {"@id": "_:b", "next": "_:c", "v": 1},
            {"@id": "_:c", "next": "_:a", "v": 1},
            {"@id": "_:d", "next": "_:e"},
            {"@id": "_:e", "next": "_:d"},
        ],
    }
    output = canonicalize(document)
    assert output == pyld_canonical(document)
    assert "_:c14n4" in output


def test_documents_outside_the_fast_path_still_agree_with_pyld():
    document = {
        "@context": {
            "@vocab": "http://example.org/",
            "byLang": {"@container": "@language"},
            "parent": {"@reverse": "http://example.org/child"},
        },
        "@id": "http://example.org/x",
        "byLang": {"en": "Hello", "fr": "Bonjour"},
        "parent": {"@id": "http://example.org/p"},
        "@included": [{"@id": "http://example.org/y", "name": "y"}],
    }
    with pytest.raises(fast_rdf.Fallback):
        fast_rdf.walk_document(document)
    assert canonicalize(document) == pyld_canonical(document)


def test_control_characters_are_escaped_as_rdfc_1_0_requires():
    # pyld writes \b, \f and other controls raw; RDFC-1.0 and rdf-canonize escape them.
    assert literal("a\bb\fc\x01d\x7fe\tf") == '"a\\bb\\fc\\u0001d\\u007Fe\\tf"'


def test_relative_iris_are_dropped_not_resolved_against_a_made_up_base():
    document = {
        "@context": {"@vocab": "http://example.org/"},
        "@id": "http://example.org/a",
        "@type": "LocalType",
        "link": {"@id": "relative/path"},
    }
    output = canonicalize(document)
    assert "example.org/base" not in output
    assert "relative/path" not in output
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    assert output == f"<http://example.org/a> {rdf_type} <http://example.org/LocalType> .\n"


# Repeated values: pyld's node map (and jsonld.js's) adds a value to a node unless an equal one is
# there, but every list is a value of its own, so an empty list twice is `rdf:nil` twice and both
# write that line twice. Each case must stay on the fast path (no Fallback) and agree with pyld.

RDF_NIL = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"
ALLOWED_VALUE = "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#allowedValue>"


def _credential_with_result_descriptions(*descriptions: dict) -> dict:
    return {
        "@context": [V2, OB303],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": "https://example.org/issuer",
        "name": "Collaborative Leadership Coaching",
        "validFrom": "2026-05-01T12:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "type": ["Achievement"],
                "name": "Coaching",
                "criteria": {"narrative": "Coach a colleague."},
                "resultDescription": list(descriptions),
            },
        },
    }


def _result_description(allowed_value: list, **extra: object) -> dict:
    return {
        "type": ["ResultDescription"],
        "name": "Overall",
        "resultType": "Status",
        "allowedValue": allowed_value,
        **extra,
    }


RD_ID = "https://example.org/rd/1"


def _agrees_on_the_fast_path(document: dict) -> str:
    fast_rdf.walk_document(document)  # raises Fallback if the fast path gave up
    output = canonicalize(document)
    assert output == pyld_canonical(document)
    return output


def test_an_empty_list_on_a_repeated_node_id_is_written_once_per_occurrence():
    # The counterexample hypothesis found: the same result description twice, with no values.
    twice = _result_description([], id=RD_ID)
    output = _agrees_on_the_fast_path(_credential_with_result_descriptions(twice, dict(twice)))
    assert output.count(f"<{RD_ID}> {ALLOWED_VALUE} {RDF_NIL} .\n") == 2
    # Everything else the two occurrences say is one quad each.
    assert output.count(f"<{RD_ID}> <https://schema.org/name>") == 1


def test_empty_lists_on_blank_nodes_agree():
    # Two identical blank nodes, each with its own rdf:nil: the N-degree hashing path.
    blank = _result_description([])
    _agrees_on_the_fast_path(_credential_with_result_descriptions(blank, dict(blank)))
    _agrees_on_the_fast_path(_credential_with_result_descriptions(blank))


def test_a_repeated_node_with_an_empty_list_in_one_occurrence_and_values_in_another():
    output = _agrees_on_the_fast_path(
        _credential_with_result_descriptions(
            _result_description([], id=RD_ID),
            _result_description(["Yes", "Not Yet"], id=RD_ID),
            _result_description([], id=RD_ID),
        )
    )
    assert output.count(f"{ALLOWED_VALUE} {RDF_NIL} .\n") == 2
    assert output.count(f"<{RD_ID}> {ALLOWED_VALUE} _:") == 1


LIST_CONTEXT = {
    "@vocab": "http://example.org/vocab#",
    "items": {"@container": "@list"},
    "tags": {"@container": "@set"},
    "code": {"@type": "http://www.w3.org/2001/XMLSchema#integer"},
    "data": {"@type": "@json"},
    "rdfType": {"@id": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "@type": "@id"},
}


@pytest.mark.parametrize(
    "node",
    [
        pytest.param({"items": [[], ["a", []], []]}, id="empty-lists-nested-in-a-list"),
        pytest.param({"items": {"@list": [{"@list": []}]}}, id="list-holding-an-empty-list"),
        pytest.param({"items": [{"@list": []}]}, id="explicit-empty-list-in-a-list-container"),
        pytest.param({"plain": [{"@list": []}, {"@list": []}]}, id="two-empty-lists-one-key"),
        pytest.param(
            {"plain": {"@list": []}, "http://example.org/vocab#plain": {"@list": []}},
            id="two-keys-for-one-property-each-with-an-empty-list",
        ),
        pytest.param({"tags": []}, id="empty-set-container"),
        pytest.param({"tags": {"@set": []}, "plain": []}, id="explicit-empty-set"),
        pytest.param({"tags": [[]], "items": []}, id="empty-array-in-a-set-and-empty-list"),
        pytest.param({"tags": ["a", "a"], "plain": [1, 1.0, True]}, id="equal-values-once"),
        pytest.param(
            {"plain": [1, {"@value": "1", "@type": "xsd:integer"}, "x", {"@value": "x"}]},
            id="same-literal-from-different-values",
        ),
        pytest.param(
            {"code": [1, "1"], "plain": [{"@value": "y", "@type": "xsd:string"}, "y"]},
            id="coerced-and-explicit-types",
        ),
        pytest.param(
            {"data": {"a": [1, True]}, "items": [{"@value": {}, "@type": "@json"}]}, id="json"
        ),
        pytest.param(
            {"@type": "Thing", "rdfType": "http://example.org/vocab#Thing"},
            id="type-and-rdf-type-property",
        ),
    ],
)
def test_lists_sets_and_repeated_values_agree(node):
    context = {**LIST_CONTEXT, "xsd": "http://www.w3.org/2001/XMLSchema#"}
    for subject in ({"@id": "http://example.org/n"}, {}, {"@id": "_:n"}):
        document = {"@context": context, "@graph": [{**subject, **node}, {**subject, **node}]}
        _agrees_on_the_fast_path(document)


# Base direction (VC 2.0 language and direction values): rdfDirection "i18n-datatype", as Digital
# Bazaar's eddsa-rdfc-2022 canonicalizes them. Without it the direction vanished from what was
# signed, and signatures disagreed both ways (issue 8, finding 12).

I18N = "https://www.w3.org/ns/i18n#"
NAME = "<http://example.org/name>"
SUBJECT = "<http://example.org/s>"


@pytest.mark.parametrize(
    ("context", "value", "literal_term"),
    [
        pytest.param(
            {},
            {"@value": "مرحبا", "@language": "AR", "@direction": "rtl"},
            f'"مرحبا"^^<{I18N}ar_rtl>',
            id="language-lowercased-and-direction",
        ),
        pytest.param(
            {},
            {"@value": "abc", "@direction": "ltr"},
            f'"abc"^^<{I18N}_ltr>',
            id="direction-without-language",
        ),
        pytest.param(
            {"name": {"@language": "he", "@direction": "rtl"}},
            "שלום",
            f'"שלום"^^<{I18N}he_rtl>',
            id="term-language-and-direction",
        ),
        pytest.param(
            {"@direction": "rtl", "@language": "fa"},
            "سلام",
            f'"سلام"^^<{I18N}fa_rtl>',
            id="context-default-direction",
        ),
        pytest.param(
            {"@direction": "rtl", "name": {"@direction": None}},
            "plain",
            '"plain"',
            id="term-removes-the-default-direction",
        ),
        pytest.param({"@direction": "rtl"}, 7, f'"7"^^<{XSD_INTEGER}>', id="numbers-have-none"),
    ],
)
def test_directional_strings_become_i18n_datatype_literals_on_the_fast_path(
    context, value, literal_term
):
    document = {
        "@context": {"@vocab": "http://example.org/", **context},
        "@id": "http://example.org/s",
        "name": value,
    }
    output = _agrees_on_the_fast_path(document)
    assert output == f"{SUBJECT} {NAME} {literal_term} .\n"


def test_a_value_differing_only_in_direction_is_the_same_value_as_in_pyld():
    # pyld's and jsonld.js's node maps compare @value, @type and @language, not @direction: the
    # first of the two is kept, so the fast path keeps it too.
    document = {
        "@context": {"@vocab": "http://example.org/"},
        "@id": "http://example.org/s",
        "name": [
            {"@value": "x", "@language": "ar", "@direction": "rtl"},
            {"@value": "x", "@language": "ar"},
        ],
    }
    assert _agrees_on_the_fast_path(document) == f'{SUBJECT} {NAME} "x"^^<{I18N}ar_rtl> .\n'


def test_directional_values_outside_the_fast_path_take_the_same_datatype():
    # @included sends the document to pyld; the pyld path must use i18n-datatype too.
    document = {
        "@context": {"@vocab": "http://example.org/"},
        "@id": "http://example.org/s",
        "name": {"@value": "مرحبا", "@language": "AR", "@direction": "rtl"},
        "@included": [{"@id": "http://example.org/y", "name": "y"}],
    }
    with pytest.raises(fast_rdf.Fallback):
        fast_rdf.walk_document(document)
    output = canonicalize(document)
    assert f'{SUBJECT} {NAME} "مرحبا"^^<{I18N}ar_rtl> .\n' in output
    assert output == pyld_canonical(document)


def test_a_number_with_a_direction_stays_a_number():
    # Numbers come before directions in Object to RDF Conversion (pyld and jsonld.js agree).
    document = {
        "@context": {"@vocab": "http://example.org/"},
        "@id": "http://example.org/s",
        "name": {"@value": 5, "@direction": "rtl"},
    }
    assert canonicalize(document) == f'{SUBJECT} {NAME} "5"^^<{XSD_INTEGER}> .\n'
    assert canonicalize(document) == pyld_canonical(document)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"@value": "x", "@direction": "up"}, id="unknown-direction"),
        pytest.param({"@value": "x", "@direction": None}, id="null-direction"),
        pytest.param(
            {"@value": "x", "@direction": "rtl", "@type": "http://example.org/t"},
            id="typed-with-direction",
        ),
    ],
)
def test_invalid_directional_values_are_refused_in_plain_words(value):
    document = {"@context": {"@vocab": "http://example.org/"}, "name": value}
    with pytest.raises(JsonLdProcessingError, match="Not valid JSON-LD"):
        canonicalize(document)
