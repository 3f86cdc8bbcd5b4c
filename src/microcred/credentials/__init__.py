"""Open Badges 3.0 credentials: signing and verifying W3C Verifiable Credentials.

The cryptographic core, with no Django models (issuer keys, issuing from awards, public pages and
status lists build on it). Everything works offline: JSON-LD contexts come only from the vendored,
hash-checked files in `contexts/`.

Public API::

    from microcred.credentials import (
        sign_credential, verify_credential, canonicalize, generate_key, did_key_for,
        document_loader,
    )

    key = generate_key()                      # Ed25519Key; key.seed is the secret (32 bytes)
    method = did_key_verification_method(key) # or "<issuer did:web>#<key id>" later
    signed = sign_credential(credential, key, method, created=timezone.now())
    report = verify_credential(signed)        # VerificationReport
    report.verified                           # True when a signature passed and nothing failed
    report.checks                             # [Check(name, status, message), ...]

- `sign_credential(credential, key, verification_method, created) -> dict`: adds a
  `DataIntegrityProof` (cryptosuite eddsa-rdfc-2022, proofPurpose assertionMethod). Raises
  `UndefinedTermError` naming every term or type the credential's @context does not define
  (it would be silently left out of the signature), `UnknownContextError` for a context we do not
  ship, `SigningError` for an already-signed credential or a naive `created`.
- `verify_credential(credential, resolver=resolve_offline, now=None) -> VerificationReport`:
  never raises; checks "json-ld", "signature" (each proof; eddsa-rdfc-2022 and legacy eddsa-2022),
  "key", "proof purpose", "dates", and reports "schema" and "status" as skipped: the Django side,
  `selectors.verify(document)`, adds those two checks (JSON Schema, status lists) and resolves our
  issuers' did:web keys. A `resolver(verification_method) -> ResolvedKey` plugs in other key
  sources; the default resolves did:key and `<url>#z6Mk...` ids offline.
- `canonicalize(document) -> str`: RDFC-1.0 canonical N-Quads (identical to pyld's, much faster;
  see rdf.py for the two places pyld departs from the specification, and for repeated quads).
- `check_terms(document)`: the signing guard on its own.
- `generate_key()`, `Ed25519Key(seed)`, `Ed25519Key.from_secret_key_multibase(...)`,
  `did_key_for(key)`, `did_key_verification_method(key)`, `public_key_from_multibase(...)`.
- `document_loader(url, options=None)`: the pyld-compatible loader (vendored contexts only);
  `loader.manifest()` lists them; `tools/vc-reference/export-contexts.mjs` refreshes them.
- `samples.sample_credential(i, issuer_id)`: a realistic unsigned educator credential (benchmark,
  tests, demo data until issuing from awards exists).
- `interop.verify(...)` / `interop.sign(...)`: Digital Bazaar's implementation, run by node from
  tools/vc-reference (tests and benchmark; needs node and a source checkout).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public names are loaded on first use (PEP 562), not when the package is imported: Django
# imports this package with the app registry in every process, and the signing stack behind
# these names (pyld and lxml, requests, cryptography) would otherwise sit in every web worker
# that never signs or verifies anything (issue 8). `from microcred.credentials import x` still
# works; it imports the submodule that defines x at that moment.
_SUBMODULE_OF = {
    "interop": None,
    "canonicalize": "canon",
    "canonicalize_quads": "canon",
    "Ed25519Key": "keys",
    "KeyFormatError": "keys",
    "KeyResolutionError": "keys",
    "ResolvedKey": "keys",
    "did_key_for": "keys",
    "did_key_verification_method": "keys",
    "generate_key": "keys",
    "public_key_from_multibase": "keys",
    "resolve_offline": "keys",
    "ContextError": "loader",
    "UnknownContextError": "loader",
    "document_loader": "loader",
    "SigningError": "proofs",
    "create_proof": "proofs",
    "sign_credential": "proofs",
    "verify_proof": "proofs",
    "JsonLdProcessingError": "rdf",
    "UndefinedTermError": "rdf",
    "check_terms": "rdf",
    "to_dataset": "rdf",
    "Check": "verification",
    "Status": "verification",
    "VerificationReport": "verification",
    "verify_credential": "verification",
}


def __getattr__(name: str) -> Any:
    if name not in _SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    submodule = _SUBMODULE_OF[name]
    if submodule is None:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


if TYPE_CHECKING:
    from . import interop
    from .canon import canonicalize, canonicalize_quads
    from .keys import (
        Ed25519Key,
        KeyFormatError,
        KeyResolutionError,
        ResolvedKey,
        did_key_for,
        did_key_verification_method,
        generate_key,
        public_key_from_multibase,
        resolve_offline,
    )
    from .loader import ContextError, UnknownContextError, document_loader
    from .proofs import SigningError, create_proof, sign_credential, verify_proof
    from .rdf import JsonLdProcessingError, UndefinedTermError, check_terms, to_dataset
    from .verification import Check, Status, VerificationReport, verify_credential

__all__ = [
    "Check",
    "ContextError",
    "Ed25519Key",
    "JsonLdProcessingError",
    "KeyFormatError",
    "KeyResolutionError",
    "ResolvedKey",
    "SigningError",
    "Status",
    "UndefinedTermError",
    "UnknownContextError",
    "VerificationReport",
    "canonicalize",
    "canonicalize_quads",
    "check_terms",
    "create_proof",
    "did_key_for",
    "did_key_verification_method",
    "document_loader",
    "generate_key",
    "interop",
    "public_key_from_multibase",
    "resolve_offline",
    "sign_credential",
    "to_dataset",
    "verify_credential",
    "verify_proof",
]
