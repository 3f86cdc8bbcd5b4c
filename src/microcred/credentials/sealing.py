"""Secrets at rest, sealed with AES-256-GCM under keys derived from one master secret.

The master secret is `MICROCRED_CREDENTIAL_KEY` (a Django setting of that name, else the
environment variable); in the embedded setup, without one, it is derived from SECRET_KEY so
that a development database works out of the box, and production refuses to run without it.
Each use (issuer keys, the LTI tool key, webhook secrets) derives its own key with HKDF-SHA256
under its own salt, so no two uses share one; each sealed value is bound to its row by
associated data, so a value copied onto another row does not open. Stored: a version byte, the
12-byte nonce, the ciphertext with its tag. Light on purpose: no signing stack is imported.
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

SETTING = "MICROCRED_CREDENTIAL_KEY"
_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealError(RuntimeError):
    """A sealed value does not open: another master secret, or damaged data."""


def master_secret() -> bytes:
    configured = getattr(settings, SETTING, "") or os.environ.get(SETTING, "")
    if configured:
        return configured.encode("utf-8")
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            f"{SETTING} must be set in production: it encrypts signing keys and secrets."
        )
    return b"embedded-default:" + settings.SECRET_KEY.encode("utf-8")


def derive(salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master_secret())


def fingerprint(key: bytes) -> str:
    """A short public name for a derived key (never the key), to tell which one sealed a value."""
    return hashlib.sha256(key).hexdigest()[:16]


def seal(key: bytes, plaintext: bytes, bound_to: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, bound_to)


def unseal(key: bytes, sealed: bytes, bound_to: bytes, *, what: str) -> bytes:
    data = bytes(sealed)
    if not data.startswith(_VERSION) or len(data) <= 1 + _NONCE_BYTES:
        raise SealError(f"The stored {what} is damaged (unknown format).")
    nonce, body = data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, bound_to)
    except InvalidTag as error:
        raise SealError(
            f"The stored {what} does not open: {SETTING} changed or the data is damaged."
        ) from error
