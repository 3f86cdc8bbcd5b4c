"""Issuer signing keys at rest: Ed25519 seeds sealed with AES-256-GCM.

The sealing key is derived (HKDF-SHA256) from the master secret `MICROCRED_CREDENTIAL_KEY`
(credentials/sealing.py). Any long random string will do;
`python -c "import secrets; print(secrets.token_urlsafe(48))"` makes one. Production refuses
to run without one, because losing or changing SECRET_KEY must not lose the keys.

Each sealed seed is bound to its public key (AES-GCM associated data): a ciphertext copied
onto another key's row does not decrypt. The stored value is a version byte, the 12-byte
nonce and the ciphertext with its tag; never the seed.
"""

from __future__ import annotations

from . import sealing
from .keys import Ed25519Key

SETTING = sealing.SETTING
_SALT = b"microcred issuer keys"


class KeystoreError(sealing.SealError):
    """A stored key cannot be opened (another master key, or damaged data)."""


def wrapping_key_id() -> str:
    """A short public fingerprint of the current master key (never the key itself)."""
    return sealing.fingerprint(sealing.derive(_SALT, b"key id v1"))


def seal(key: Ed25519Key) -> tuple[bytes, str]:
    """(sealed seed, wrapping key id) for storing `key`."""
    aad = key.public_key_multibase.encode("ascii")
    sealed = sealing.seal(sealing.derive(_SALT, b"seal v1"), key.seed, aad)
    return sealed, wrapping_key_id()


def unseal(sealed: bytes, public_key_multibase: str, sealed_with: str) -> Ed25519Key:
    """The signing key stored as `sealed` for `public_key_multibase`."""
    current = wrapping_key_id()
    if sealed_with != current:
        raise KeystoreError(
            f"This key was encrypted with another {SETTING} (fingerprint {sealed_with}; the "
            f"current one is {current}). Restore the original {SETTING} to sign with it."
        )
    key = sealing.derive(_SALT, b"seal v1")
    try:
        seed = sealing.unseal(key, sealed, public_key_multibase.encode("ascii"), what="key")
    except sealing.SealError as error:
        raise KeystoreError(
            "The stored key does not decrypt: it is damaged or belongs to another key."
        ) from error
    return Ed25519Key(seed)
