"""W3C Bitstring Status List v1.0: encoding, the list credential, and checking an entry.

A list is a bitstring whose bit `i` (counted from the left-most bit of the first byte) is 1
when the credential holding index `i` is revoked. It is published inside a signed
`BitstringStatusListCredential` whose `credentialSubject.encodedList` is multibase base64url
("u", no padding) of the GZIP-compressed bitstring. A credential points at its entry with a
`BitstringStatusListEntry` (statusPurpose, statusListIndex as a base-10 string,
statusListCredential: the list credential's URL).
"""

from __future__ import annotations

import base64
import gzip
import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from .models import StatusList

if TYPE_CHECKING:
    from .verification import Status, VerificationReport

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
# How long verifiers may cache a list: the credential's `ttl` (milliseconds) and the HTTP
# Cache-Control max-age say the same, as the specification asks. Short, so that a revocation
# shows within minutes.
TTL_SECONDS = 300
# A decoded list larger than this is refused (a small GZIP stream can expand enormously).
MAX_DECODED_BYTES = 16 * 1024 * 1024
URL_NAME = "credentials:status_list"


class StatusListFormatError(ValueError):
    """An encodedList that is not multibase base64url GZIP data."""


def encode_list(bits: bytes) -> str:
    # mtime=0: the same bits always give the same text, so re-signing is reproducible.
    compressed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_list(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListFormatError("encodedList is not multibase base64url (it must start 'u')")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # GZIP framing
        bits = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except (ValueError, zlib.error) as error:
        raise StatusListFormatError(
            f"encodedList is not GZIP data in base64url: {error}"
        ) from error
    if inflater.unconsumed_tail:
        raise StatusListFormatError("encodedList expands to more than 16 MB")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


def with_bit_set(bits: bytes, index: int) -> bytes:
    data = bytearray(bits)
    data[index // 8] |= 1 << (7 - index % 8)
    return bytes(data)


def list_url(status_list: StatusList) -> str:
    return settings.SITE_URL + reverse(URL_NAME, args=[status_list.uuid])


def status_entry(status_list: StatusList, index: int) -> dict[str, str]:
    """The `credentialStatus` a credential holding `index` in this list carries."""
    url = list_url(status_list)
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": status_list.purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def list_credential(status_list: StatusList, issuer_id: str, valid_from: str) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential of the list as it is now."""
    url = list_url(status_list)
    return {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_id,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encode_list(bytes(status_list.bits)),
            "ttl": TTL_SECONDS * 1000,
        },
    }


def _our_list(url: str) -> StatusList | None:
    """The list of this site a statusListCredential URL names (None if the URL is not ours)."""
    site = settings.SITE_URL
    if not url.startswith(site + "/"):
        return None
    try:
        match = resolve(urlsplit(url[len(site) :]).path)
    except (Resolver404, NoReverseMatch):
        return None
    if match.view_name != URL_NAME:
        return None
    list_uuid = match.kwargs.get("list_uuid")
    return (
        StatusList.objects.filter(uuid=list_uuid).first() if isinstance(list_uuid, UUID) else None
    )


def _check_entry(entry: Any) -> tuple[Status, str]:
    # Imported here, as in check_status: the public credential documents import this module
    # for TTL_SECONDS alone, and the verifier brings the signing stack (pyld, lxml, requests)
    # that only checking a credential needs (issue 8).
    from .verification import Status

    if not isinstance(entry, dict):
        return Status.FAILED, "The credentialStatus entry is not a JSON object."
    kind = entry.get("type")
    if kind != ENTRY_TYPE:
        return (
            Status.WARNING,
            f"The credential's status is published with the {kind!r} method, which this "
            "verifier does not check: ask its issuer whether it has been revoked.",
        )
    url = entry.get("statusListCredential")
    index_text = entry.get("statusListIndex")
    purpose = entry.get("statusPurpose")
    if not isinstance(url, str) or not isinstance(index_text, str) or not isinstance(purpose, str):
        return (
            Status.FAILED,
            "The status entry lacks statusListCredential, statusListIndex or statusPurpose "
            "(each a string).",
        )
    if not index_text.isdigit():
        return Status.FAILED, f"statusListIndex {index_text!r} is not a whole number."
    if not url.startswith(settings.SITE_URL + "/"):
        return (
            Status.WARNING,
            f"Its status list is published at {url}, on another site; this verifier fetches "
            "nothing from other sites, so revocation was not checked.",
        )
    status_list = _our_list(url)
    if status_list is None:
        return Status.FAILED, f"There is no status list at {url}."
    if purpose != status_list.purpose:
        return (
            Status.FAILED,
            f"The entry's statusPurpose {purpose!r} does not match the list's "
            f"({status_list.purpose!r}).",
        )
    index = int(index_text)
    if index >= status_list.size:
        return (
            Status.FAILED,
            f"statusListIndex {index} is beyond the end of the list ({status_list.size} entries).",
        )
    if bit_is_set(bytes(status_list.bits), index):
        return Status.FAILED, f"{status_list.issuer.name} has revoked this credential."
    return Status.PASSED, f"Not revoked: {status_list.issuer.name}'s status list says it is valid."


def check_status(credential: Any, report: VerificationReport) -> None:
    """Add a "status" check per credentialStatus entry of the credential."""
    from .verification import Status  # not at the top: see _check_entry

    entries = credential.get("credentialStatus") if isinstance(credential, dict) else None
    if entries is None:
        report.add(
            "status",
            Status.SKIPPED,
            "The credential names no status list, so there is no revocation to check.",
        )
        return
    for entry in entries if isinstance(entries, list) else [entries]:
        report.add("status", *_check_entry(entry))
