"""Talking to a platform: its key set, and access tokens for its services (AGS, NRPS) from
the OAuth 2 client-credentials grant with a JWT client assertion signed by our key."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests
from django.core.cache import cache

from . import keys
from .models import LtiPlatform

TIMEOUT = 10  # seconds: a slow platform must not hold a web or task process for long
KEY_SET_CACHE_SECONDS = 300


class PlatformError(RuntimeError):
    """The platform did not answer as LTI says it should; the message says how, plainly."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def key_set(url: str, *, fresh: bool = False) -> dict[str, Any]:
    """The platform's published keys, cached a few minutes; `fresh` skips the cache (after a
    kid we do not know: the platform may have rotated its key)."""
    cache_key = "lti-jwks:" + url
    if not fresh and (cached := cache.get(cache_key)) is not None:
        return cached
    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise PlatformError(
            f"microcred could not read the platform's public keys at {url}."
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise PlatformError(f"The platform's public key set at {url} is not a JSON Web Key Set.")
    cache.set(cache_key, data, KEY_SET_CACHE_SECONDS)
    return data


def access_token(platform: LtiPlatform, scopes: list[str]) -> str:
    """An access token for the scopes (client_credentials with a signed client assertion)."""
    now = int(time.time())
    assertion = keys.sign(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_audience or platform.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
    )
    try:
        response = requests.post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise PlatformError(f"{platform.name} did not answer the token request.") from exc
    if response.status_code != 200:
        raise PlatformError(
            f"{platform.name} refused an access token (HTTP {response.status_code}).",
            response.status_code,
        )
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PlatformError(f"{platform.name} sent a token answer without a token.") from exc
    return str(token)
