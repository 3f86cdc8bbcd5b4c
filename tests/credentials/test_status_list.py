"""W3C Bitstring Status Lists: encoding, allocation, revocation, the served list credential."""

from __future__ import annotations

import base64
import gzip

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F

from microcred.credentials import selectors, services
from microcred.credentials.models import STATUS_LIST_SIZE, IssuerProfile, StatusList
from microcred.credentials.status_list import (
    StatusListFormatError,
    bit_is_set,
    decode_list,
    encode_list,
    list_url,
    status_entry,
    with_bit_set,
)
from microcred.credentials.verification import Status

from .helpers import DURING, set_up_issuer, signed_by, statuses


@pytest.fixture
def issuer(org_tree) -> IssuerProfile:
    return set_up_issuer(org_tree["issuer"])


# ---------------------------------------------------------------------------- the bitstring


def test_the_encoded_list_is_multibase_base64url_of_gzip():
    bits = with_bit_set(bytes(STATUS_LIST_SIZE // 8), 0)
    encoded = encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded
    body = encoded[1:]
    assert gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == bits
    assert decode_list(encoded) == bits
    assert encode_list(bits) == encoded  # no timestamp inside: the same bits, the same text


def test_index_zero_is_the_left_most_bit():
    bits = with_bit_set(bytes(2), 0)
    assert bits == b"\x80\x00"
    bits = with_bit_set(bits, 15)
    assert bits == b"\x80\x01"
    assert bit_is_set(bits, 0) and bit_is_set(bits, 15) and not bit_is_set(bits, 1)


@pytest.mark.parametrize(
    "encoded",
    ["H4sIAAAA", "unot base64!", "u" + base64.urlsafe_b64encode(b"not gzip").decode(), 42],
)
def test_a_malformed_encoded_list_is_refused(encoded):
    with pytest.raises(StatusListFormatError):
        decode_list(encoded)


def test_a_list_that_would_expand_beyond_16_mb_is_refused():
    bomb = encode_list(bytes(17 * 1024 * 1024))
    with pytest.raises(StatusListFormatError, match="16 MB"):
        decode_list(bomb)


def test_the_index_scramble_is_one_to_one_and_runs_backwards():
    status_list = StatusList(size=STATUS_LIST_SIZE, multiplier=40_503, offset=77_777)
    indexes = {status_list.index_at(position) for position in range(STATUS_LIST_SIZE)}
    assert indexes == set(range(STATUS_LIST_SIZE))
    status_list.next_position = 10
    given = {status_list.index_at(position) for position in range(10)}
    assert all(status_list.allocated(index) for index in given)
    assert sum(status_list.allocated(index) for index in range(STATUS_LIST_SIZE)) == 10
    assert not status_list.allocated(STATUS_LIST_SIZE) and not status_list.allocated(-1)


# ---------------------------------------------------------------------------- allocation


def test_allocations_are_unique_and_never_reused(issuer):
    # Two workers, each with its own (soon stale) copy of the issuer, take turns: the counter
    # is read under the row lock, never from the caller's objects.
    workers = [issuer, IssuerProfile.objects.get(pk=issuer.pk)]
    allocations = [services.allocate_index(workers[n % 2]) for n in range(600)]
    (status_list,) = {allocated_list for allocated_list, _ in allocations}
    indexes = [index for _, index in allocations]
    assert len(set(indexes)) == 600
    assert all(0 <= index < STATUS_LIST_SIZE for index in indexes)
    assert indexes != sorted(indexes)  # scrambled: an index does not tell when it was issued
    status_list.refresh_from_db()
    assert status_list.next_position == 600
    assert status_list.size == STATUS_LIST_SIZE and len(bytes(status_list.bits)) == 16 * 1024


def test_a_full_list_is_followed_by_a_new_one(issuer):
    first_list, _ = services.allocate_index(issuer)
    StatusList.objects.filter(pk=first_list.pk).update(next_position=F("size") - 1)
    last_list, _ = services.allocate_index(issuer)
    next_list, _ = services.allocate_index(issuer)
    assert last_list == first_list and next_list != first_list
    assert issuer.status_lists.count() == 2


# ---------------------------------------------------------------------------- revocation


def test_revoking_flips_exactly_that_bit_once(issuer):
    status_list, index = services.allocate_index(issuer)
    _, other = services.allocate_index(issuer)
    assert services.set_revoked(status_list, index) is True
    assert services.set_revoked(status_list, index) is False  # twice: nothing changes
    status_list.refresh_from_db()
    bits = bytes(status_list.bits)
    assert bit_is_set(bits, index) and not bit_is_set(bits, other)
    assert sum(bin(byte).count("1") for byte in bits) == 1


def test_an_index_never_given_out_cannot_be_revoked(issuer):
    status_list, _ = services.allocate_index(issuer)
    unused = next(i for i in range(STATUS_LIST_SIZE) if not status_list.allocated(i))
    before = status_list.credential
    with pytest.raises(ValidationError, match="has not been given to any credential"):
        services.set_revoked(status_list, unused)
    status_list.refresh_from_db()
    assert not any(bytes(status_list.bits)) and status_list.credential == before


def test_the_served_list_credential_verifies_and_decodes(client, issuer):
    status_list, index = services.allocate_index(issuer)
    services.set_revoked(status_list, index)
    response = client.get(list_url(status_list).removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    document = response.json()
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == list_url(status_list)
    assert document["issuer"] == selectors.identifier(issuer)
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == 300_000
    bits = decode_list(subject["encodedList"])
    assert len(bits) * 8 == STATUS_LIST_SIZE and bit_is_set(bits, index)
    report = selectors.verify(document)
    assert report.verified, report.checks
    assert statuses(report, "key") == [Status.PASSED]


def test_an_unknown_list_is_not_found(client, db):
    assert client.get("/status/00000000-0000-0000-0000-000000000000").status_code == 404


def test_after_rotation_the_list_is_signed_with_the_new_key(issuer):
    status_list, _ = services.allocate_index(issuer)
    services.rotate_key(issuer, reason="Yearly rotation")
    status_list.refresh_from_db()
    assert status_list.credential["proof"][0]["verificationMethod"].endswith("#key-2")
    assert selectors.verify(status_list.credential).verified


# ---------------------------------------------------------------------------- verifying entries


def _with_status(issuer: IssuerProfile, entry: dict) -> dict:
    return signed_by(issuer, credentialStatus=entry)


def test_a_credential_reports_valid_then_revoked(issuer):
    status_list, index = services.allocate_index(issuer)
    credential = _with_status(issuer, status_entry(status_list, index))
    assert credential["credentialStatus"]["statusListIndex"] == str(index)
    report = selectors.verify(credential, now=DURING)
    assert report.verified and statuses(report, "status") == [Status.PASSED]
    services.set_revoked(status_list, index)
    report = selectors.verify(credential, now=DURING)
    assert not report.verified
    (check,) = report.check("status")
    assert check.status is Status.FAILED and "has revoked this credential" in check.message


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"statusPurpose": "suspension"}, Status.FAILED, "does not match the list's"),
        ({"statusListIndex": "-1"}, Status.FAILED, "is not a whole number"),
        ({"statusListIndex": str(STATUS_LIST_SIZE)}, Status.FAILED, "beyond the end"),
        (
            {"statusListCredential": "http://127.0.0.1:8000/status/00000000-0000-0000-0000-0000"},
            Status.FAILED,
            "There is no status list",
        ),
        (
            {"statusListCredential": "https://other.example.org/status/1"},
            Status.WARNING,
            "on another site",
        ),
    ],
)
def test_a_broken_or_foreign_entry_is_reported(issuer, change, status, message):
    status_list, index = services.allocate_index(issuer)
    entry = {**status_entry(status_list, index), **change}
    report = selectors.verify(_with_status(issuer, entry), now=DURING)
    (check,) = report.check("status")
    assert check.status is status and message in check.message


def test_a_status_method_we_do_not_know_is_a_warning(issuer):
    entry = {"id": "https://issuer.example.org/revocations", "type": "1EdTechRevocationList"}
    report = selectors.verify(_with_status(issuer, entry), now=DURING)
    (check,) = report.check("status")
    assert check.status is Status.WARNING and "does not check" in check.message
    assert report.verified


def test_a_credential_without_status_says_so(issuer):
    report = selectors.verify(signed_by(issuer), now=DURING)
    assert report.verified
    assert statuses(report, "status") == [Status.SKIPPED]
