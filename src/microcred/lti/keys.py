"""The tool's RSA key: made on first need, kept sealed, published as a JWKS, used to sign.

Sealed at rest (credentials/sealing.py): AES-256-GCM under a key derived (HKDF) from the master
secret MICROCRED_CREDENTIAL_KEY (in the embedded setup, from SECRET_KEY), with its own salt so
the two uses never share a derived key. The kid is bound as associated data: a sealed key
copied onto another row does not open.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from jwt.algorithms import RSAAlgorithm

from microcred.credentials import sealing

from .models import ToolKey


class ToolKeyError(RuntimeError):
    """The stored key does not open (another master secret, or damaged data)."""


def _sealing_key() -> bytes:
    return sealing.derive(b"microcred lti tool key", b"seal v1")


def _create_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, alg="RS256", use="sig")
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = _sealing_key()
    return ToolKey.objects.create(
        kid=kid,
        public_jwk=jwk,
        sealed_private_key=sealing.seal(key, der, kid.encode()),
        wrapping_key_id=sealing.fingerprint(key),
    )


def active_key() -> ToolKey:
    """The signing key, made the first time one is needed (two first requests at once: the
    constraint keeps one, the other reads it)."""
    key = ToolKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create_key()
    except IntegrityError:
        return ToolKey.objects.get(retired_at__isnull=True)


def _private_key(key: ToolKey) -> rsa.RSAPrivateKey:
    sealing_key = _sealing_key()
    if key.wrapping_key_id != sealing.fingerprint(sealing_key):
        raise ToolKeyError(f"The LTI key was sealed with another {sealing.SETTING}; restore it.")
    der = sealing.unseal(sealing_key, key.sealed_private_key, key.kid.encode(), what="LTI key")
    private = serialization.load_der_private_key(der, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return private


def jwks() -> dict[str, list[dict[str, Any]]]:
    """Every published key: the active one and those retired less than a day ago (a platform
    may still hold a token signed with one)."""
    active_key()
    since = time.time() - 86400
    keys = [
        k.public_jwk
        for k in ToolKey.objects.all()
        if k.retired_at is None or k.retired_at.timestamp() > since
    ]
    return {"keys": keys}


def sign(claims: dict[str, Any]) -> str:
    """A compact JWS (RS256) of the claims, signed with the active key, its kid in the header."""
    key = active_key()
    return jwt.encode(claims, _private_key(key), algorithm="RS256", headers={"kid": key.kid})
