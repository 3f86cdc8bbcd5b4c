"""An earner's own DID: checked strictly, stored on `User.did`, audited.

Credentials issued after it is set name the earner by it (`credentialSubject.id`), besides the
salted email hash; credentials issued before keep what they said (they are signed).

Two methods are accepted, the ones a wallet gives a teacher:
- did:key with an Ed25519 Multikey (`did:key:z6Mk...`): it must decode to a 32-byte Ed25519
  public key (the same decoding our verifier uses, `credentials.keys`);
- did:web: a domain name (a port written as %3A1234), then optional `:`-separated path segments
  (W3C CCG did:web method). No fragment, query or parameters: the DID names a person, not a key.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import User
from .services import record_audit

MAX_LENGTH = User._meta.get_field("did").max_length
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A domain name of two or more labels whose last (the top-level domain) is letters only.
_HOST = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_PORT = re.compile(r"^%3a([1-9][0-9]{0,4})$", re.IGNORECASE)
# RFC 3986 pchar minus ":" (the segment separator): unreserved, sub-delims, "@", %HH.
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=@-]|%[0-9A-Fa-f]{2})+$")

EXAMPLES = "did:key:z6Mk… or did:web:example.org"


def _did_key(value: str) -> str:
    # Imported here: the DID page's views load this module in every web worker, and the key
    # decoding brings cryptography, needed only when someone saves a did:key (issue 8).
    from microcred.credentials.keys import KeyFormatError, public_key_from_multibase

    key = value.removeprefix("did:key:")
    if not key.startswith("z6Mk"):
        raise ValidationError(
            "A did:key must hold an Ed25519 key: it starts “did:key:z6Mk”.", code="did_key"
        )
    try:
        public_key_from_multibase(key)
    except (KeyFormatError, ValueError) as error:
        raise ValidationError(
            "This did:key does not decode to an Ed25519 public key. Copy it again from your "
            "wallet, in full.",
            code="did_key",
        ) from error
    return value


def _did_web(value: str) -> str:
    host_part, *path = value.removeprefix("did:web:").split(":")
    host, _, port = host_part.partition("%")
    host = host.lower()
    port_match = _PORT.match("%" + port) if port else None
    if not _HOST.match(host) or len(host) > 253 or (port and port_match is None):
        raise ValidationError(
            "After “did:web:” comes a domain name, such as did:web:example.org (a port is "
            "written %3A8443).",
            code="did_web",
        )
    if port_match and int(port_match.group(1)) > 65535:
        raise ValidationError("The port in this did:web is too large.", code="did_web")
    if any(not _SEGMENT.match(segment) for segment in path):
        raise ValidationError(
            "Each part of a did:web path, after a colon, must be a plain name such as "
            "did:web:example.org:people:jane (no empty parts, spaces, / or #).",
            code="did_web",
        )
    normalized_port = f"%3A{port_match.group(1)}" if port_match else ""
    return ":".join([f"did:web:{host}{normalized_port}", *path])


def check_did(value: str) -> str:
    """The DID as we store it (did:web's host lower-cased), or a ValidationError in words an
    earner can act on. An empty value means "no DID"."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_LENGTH:
        raise ValidationError(f"A DID here is at most {MAX_LENGTH} characters.", code="length")
    if not value.startswith(("did:key:", "did:web:")):
        raise ValidationError(
            f"Enter a DID that starts with “did:key:” or “did:web:” ({EXAMPLES}).", code="method"
        )
    if any(char in value for char in "#?/ \t\n"):
        raise ValidationError(
            "Enter the DID alone: no spaces, key fragment (#…), query (?…) or slashes.",
            code="syntax",
        )
    if value.startswith("did:key:"):
        return _did_key(value)
    return _did_web(value)


@transaction.atomic
def set_did(user: User, value: str, *, actor: Any) -> bool:
    """Set (or, with "", remove) the user's DID. Returns whether anything changed; only a
    change is audited, so a form posted twice records one event."""
    if getattr(actor, "pk", None) != user.pk:
        # Nobody else speaks for an earner's identity, not even an administrator.
        raise ValidationError("Only the earner can set their own DID.", code="not_yours")
    did = check_did(value)
    locked = User.objects.select_for_update().get(pk=user.pk)
    previous = locked.did
    if previous == did:
        return False
    locked.did = did
    locked.save(update_fields=["did"])
    user.did = did
    record_audit(
        actor,
        "orgs.user.did_removed" if not did else "orgs.user.did_set",
        locked,
        data={"did": did, "previous": previous},
    )
    return True
