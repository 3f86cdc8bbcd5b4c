"""The only JSON-LD document loader credentials code uses: vendored contexts, never the network.

A verifier that fetches contexts can be made to canonicalize a credential differently from its
issuer (a context served differently tomorrow changes what a signature covers), and it leaks who
verifies what. So every context we accept is a file in `contexts/`, listed in `manifest.json`
with its SHA-256; a file whose bytes do not match is refused like an unknown URL.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).with_name("contexts")
MANIFEST_PATH = CONTEXTS_DIR / "manifest.json"


class ContextError(Exception):
    """A JSON-LD context could not be served from the vendored set."""


class UnknownContextError(ContextError):
    """The document names a context we do not ship (and we never fetch one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"Unknown JSON-LD context {url!r}: only the vendored contexts are loaded "
            f"(no network access). Known contexts: {', '.join(sorted(manifest()))}."
        )


class ContextIntegrityError(ContextError):
    """A vendored context file no longer matches the hash in the manifest."""


@cache
def manifest() -> dict[str, dict[str, str]]:
    """URL -> {"file", "sha256", "source"} for every vendored context."""
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


@cache
def _verified_text(url: str) -> str:
    entry = manifest().get(url)
    if entry is None:
        raise UnknownContextError(url)
    data = (CONTEXTS_DIR / entry["file"]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ContextIntegrityError(
            f"Vendored context {entry['file']} for {url} has sha256 {digest}, "
            f"manifest says {entry['sha256']}: refusing to use it."
        )
    return data.decode("utf-8")


def load_context(url: str) -> Any:
    """The parsed context document for `url` (a fresh copy: JSON-LD processors mutate them)."""
    return json.loads(_verified_text(url))


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """A pyld-compatible document loader serving only the vendored, hash-checked contexts."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
    }


def is_known_context(url: str) -> bool:
    return url in manifest()
