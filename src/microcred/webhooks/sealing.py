"""Webhook signing secrets at rest, sealed like the issuers' signing keys (credentials/
sealing.py): we must sign with the secret, so it cannot be hashed like an API token. Each is
bound to its endpoint's id: copied onto another endpoint's row it does not open.
"""

from __future__ import annotations

from microcred.credentials import sealing

SealError = sealing.SealError


def _key() -> bytes:
    return sealing.derive(b"microcred webhooks", b"secret v1")


def seal(secret: str, endpoint_id: int) -> bytes:
    return sealing.seal(_key(), secret.encode("utf-8"), str(endpoint_id).encode())


def unseal(sealed: bytes, endpoint_id: int) -> str:
    try:
        opened = sealing.unseal(_key(), sealed, str(endpoint_id).encode(), what="webhook secret")
    except SealError as error:
        raise SealError(f"{error} Rotate the endpoint's secret.") from error
    return opened.decode("utf-8")
