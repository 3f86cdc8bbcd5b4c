"""Issuer signing keys at rest: Ed25519 seeds sealed with AES-256-GCM.

The sealing key is derived (HKDF-SHA256) from the master secret `MICROCRED_CREDENTIAL_KEY`
(a Django setting of that name, else the environment variable). Any long random string will
do; `python -c "import secrets; print(secrets.token_urlsafe(48))"` makes one. In the embedded
setup, when it is not set, the master secret is derived from Django's SECRET_KEY, so a
development database works out of the box; production (MICROCRED_PRODUCTION) refuses to run
without an explicit one, because losing or changing SECRET_KEY must not lose the keys.

Each sealed seed is bound to its public key (AES-GCM associated data): a ciphertext copied
onto another key's row does not decrypt. The stored value is a version byte, the 12-byte
nonce and the ciphertext with its tag; never the seed.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .keys import Ed25519Key

SETTING = "MICROCRED_CREDENTIAL_KEY"
_VERSION = b"\x01"
_NONCE_BYTES = 12


class KeystoreError(RuntimeError):
    """A stored key cannot be opened (another master key, or damaged data)."""


def _master_secret() -> bytes:
    configured = getattr(settings, SETTING, "") or os.environ.get(SETTING, "")
    if configured:
        return configured.encode("utf-8")
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            f"{SETTING} must be set in production: it encrypts the issuers' signing keys."
        )
    return b"embedded-default:" + settings.SECRET_KEY.encode("utf-8")


def _derive(info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"microcred issuer keys", info=info
    ).derive(_master_secret())


def wrapping_key_id() -> str:
    """A short public fingerprint of the current master key (never the key itself)."""
    return hashlib.sha256(_derive(b"key id v1")).hexdigest()[:16]


def seal(key: Ed25519Key) -> tuple[bytes, str]:
    """(sealed seed, wrapping key id) for storing `key`."""
    nonce = os.urandom(_NONCE_BYTES)
    aad = key.public_key_multibase.encode("ascii")
    sealed = AESGCM(_derive(b"seal v1")).encrypt(nonce, key.seed, aad)
    return _VERSION + nonce + sealed, wrapping_key_id()


def unseal(sealed: bytes, public_key_multibase: str, sealed_with: str) -> Ed25519Key:
    """The signing key stored as `sealed` for `public_key_multibase`."""
    current = wrapping_key_id()
    if sealed_with != current:
        raise KeystoreError(
            f"This key was encrypted with another {SETTING} (fingerprint {sealed_with}; the "
            f"current one is {current}). Restore the original {SETTING} to sign with it."
        )
    data = bytes(sealed)
    if not data.startswith(_VERSION) or len(data) <= 1 + _NONCE_BYTES:
        raise KeystoreError("The stored key is damaged (unknown format).")
    nonce, body = data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :]
    try:
        seed = AESGCM(_derive(b"seal v1")).decrypt(
            nonce, body, public_key_multibase.encode("ascii")
        )
    except InvalidTag as error:
        raise KeystoreError(
            "The stored key does not decrypt: it is damaged or belongs to another key."
        ) from error
    return Ed25519Key(seed)
