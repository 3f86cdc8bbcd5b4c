"""Vendored JSON-LD contexts: hashed, served from disk only, everything else refused."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from microcred.credentials import UnknownContextError, canonicalize, loader, verify_credential
from microcred.credentials.loader import ContextIntegrityError

from .conftest import load_fixture

REQUIRED = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
]


def test_manifest_hashes_match_the_vendored_files():
    for url, entry in loader.manifest().items():
        data = (loader.CONTEXTS_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], url
        assert entry["source"], url


@pytest.mark.parametrize("url", REQUIRED)
def test_every_context_a_credential_needs_is_served(url):
    document = loader.document_loader(url)["document"]
    assert "@context" in document


def test_unknown_context_is_refused_with_its_url():
    with pytest.raises(UnknownContextError, match=r"https://evil\.example/ctx\.json"):
        loader.document_loader("https://evil.example/ctx.json")


def test_canonicalizing_a_document_with_an_unknown_context_names_it():
    credential = load_fixture("ob30_simple.json")
    credential["@context"] = [*credential["@context"], "https://schema.org/"]
    with pytest.raises(UnknownContextError, match=r"https://schema\.org/"):
        canonicalize(credential)


def test_verifier_reports_an_unknown_context_instead_of_raising():
    credential = load_fixture("ob30_simple.json")
    credential["@context"][1] = "https://example.com/my-badges-context.json"
    report = verify_credential(credential)
    assert not report.verified
    (check,) = report.check("json-ld")
    assert check.status == "failed"
    assert "https://example.com/my-badges-context.json" in check.message


def test_a_context_file_that_no_longer_matches_its_hash_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "contexts"
    shutil.copytree(loader.CONTEXTS_DIR, copy)
    entry = loader.manifest()["https://www.w3.org/ns/did/v1"]
    target = copy / entry["file"]
    target.write_text(target.read_text().replace("https://w3id.org/security#", "https://x/"))
    monkeypatch.setattr(loader, "CONTEXTS_DIR", copy)
    loader._verified_text.cache_clear()
    try:
        with pytest.raises(ContextIntegrityError, match="sha256"):
            loader.document_loader("https://www.w3.org/ns/did/v1")
    finally:
        loader._verified_text.cache_clear()
