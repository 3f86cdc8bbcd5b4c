"""did:web identifiers from the site's address, the served DID document, and the resolver."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from microcred.credentials import did, selectors
from microcred.credentials.keys import (
    KeyResolutionError,
    did_key_verification_method,
    generate_key,
    public_key_from_multibase,
)
from microcred.credentials.rdf import check_terms
from microcred.credentials.verification import Status

from .helpers import DURING, set_up_issuer, signed_by, statuses


@pytest.fixture
def issuer(org_tree):
    return set_up_issuer(org_tree["issuer"])


@pytest.mark.parametrize(
    ("site_url", "expected_did", "expected_url"),
    [
        (
            "http://127.0.0.1:8000",
            "did:web:127.0.0.1%3A8000:issuers:dpi",
            "https://127.0.0.1:8000/issuers/dpi/did.json",
        ),
        (
            "https://microcred.example.org",
            "did:web:microcred.example.org:issuers:dpi",
            "https://microcred.example.org/issuers/dpi/did.json",
        ),
        (
            "https://state.example.gov/microcred",
            "did:web:state.example.gov:microcred:issuers:dpi",
            "https://state.example.gov/microcred/issuers/dpi/did.json",
        ),
    ],
)
def test_the_did_follows_the_did_web_path_rules(settings, site_url, expected_did, expected_url):
    settings.SITE_URL = site_url
    assert did.did_web_for("dpi") == expected_did
    assert did.document_url(expected_did) == expected_url
    assert did.our_issuer_slug(expected_did) == "dpi"


def test_a_bare_host_did_resolves_to_the_well_known_address():
    assert did.document_url("did:web:example.org") == "https://example.org/.well-known/did.json"


@pytest.mark.parametrize(
    "other",
    [
        "did:web:other.example.org:issuers:issuer",
        "did:web:127.0.0.1%3A8001:issuers:issuer",
        "did:web:127.0.0.1%3A8000:catalog:issuer",
        "did:web:127.0.0.1%3A8000",
    ],
)
def test_dids_of_other_sites_or_paths_are_not_ours(other):
    assert did.our_issuer_slug(other) is None


def test_the_did_document_is_served_where_did_web_says(client, issuer):
    identifier = did.did_web_for(issuer.slug)
    path = urlsplit(did.document_url(identifier)).path
    assert path == reverse("credentials:did_document", args=[issuer.slug])
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+ld+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["id"] == identifier
    (method,) = document["verificationMethod"]
    assert method == {
        "id": f"{identifier}#key-1",
        "type": "Multikey",
        "controller": identifier,
        "publicKeyMultibase": issuer.keys.get().public_key_multibase,
    }
    assert document["assertionMethod"] == [method["id"]]
    assert not check_terms(document).issues  # every term is defined by its contexts
    assert client.get(reverse("credentials:did_document", args=["nobody"])).status_code == 404


def test_the_issuer_profile_is_an_open_badges_profile(client, issuer):
    response = client.get(reverse("credentials:profile_json", args=[issuer.slug]))
    profile = response.json()
    assert profile["id"] == did.did_web_for(issuer.slug)
    assert profile["type"] == ["Profile"] and profile["name"] == issuer.name
    assert not check_terms(profile).issues


def test_our_keys_resolve_from_the_database(issuer):
    identifier = did.did_web_for(issuer.slug)
    resolved = did.resolve_key(f"{identifier}#key-1")
    assert resolved.controller == identifier and resolved.confirmed
    assert resolved.public_key == public_key_from_multibase(issuer.keys.get().public_key_multibase)


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("{did}#key-7", "is not one of State MC Issuer's keys (its DID document lists: key-1)"),
        ("{did}", "is not one of"),
        ("did:web:127.0.0.1%3A8000:issuers:nobody#key-1", "names no issuer of this site"),
        ("did:web:other.example.org#key-1", "never fetches them from other sites"),
        ("https://issuer.example.org/keys/1", "fetches nothing from other sites"),
        ("did:example:123#key-1", "Cannot resolve"),
    ],
)
def test_what_cannot_be_resolved_says_why(issuer, method, message):
    with pytest.raises(KeyResolutionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        did.resolve_key(method.format(did=did.did_web_for(issuer.slug)))


def test_did_key_resolves_offline():
    key = generate_key()
    assert did.resolve_key(did_key_verification_method(key)).public_key == key.public_key


def test_an_unresolvable_key_fails_the_key_check_in_the_report(issuer):
    credential = copy.deepcopy(signed_by(issuer))
    credential["proof"][0]["verificationMethod"] = "did:web:elsewhere.example.org#key-1"
    report = selectors.verify(credential, now=DURING)
    assert not report.verified
    assert statuses(report, "key") == [Status.FAILED]
    assert "other sites" in report.check("key")[0].message
