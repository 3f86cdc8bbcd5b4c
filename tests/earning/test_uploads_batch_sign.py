"""Signing several parts in one request (GET /uploads/api/<id>/parts/sign/?parts=3-6), as
static/earning/uploader.js and bench/upload.py do ahead of sending: each URL takes its own
part, and only the owner of an open upload may ask, for parts the file has."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from microcred.earning.models import Upload
from microcred.earning.uploads.backends import SIGNED_URL_SECONDS
from microcred.earning.uploads.services import MAX_SIGNED_AT_ONCE
from microcred.orgs.tokens import create_token

from .uploading import VIDEO_POLICY, MiB, Protocol, padded_mp4, split

PART = 5 * MiB


@pytest.fixture
def api(owner_client) -> Protocol:
    return Protocol(owner_client)


def start(api: Protocol, owner, data: bytes) -> str:
    token = VIDEO_POLICY.token(owner)
    response = api.create(token, name="lesson.mp4", size=len(data), part_size=PART)
    assert response.status_code == 201, response.json()
    return response.json()["uploadId"]


def sign_range(client: Client, upload_id: str, parts: str):
    return client.get(f"/uploads/api/{upload_id}/parts/sign/", {"parts": parts})


def backdate(upload_id: str) -> datetime:
    """Set the upload's last activity an hour back, so a new activity shows; returns it."""
    earlier = timezone.now() - timedelta(hours=1)
    Upload.objects.filter(pk=upload_id).update(updated_at=earlier)
    return earlier


def test_one_request_signs_a_run_of_parts_and_each_url_takes_its_own_part(
    api, owner, django_capture_on_commit_callbacks
):
    data = padded_mp4(2 * PART + 4321)
    upload_id = start(api, owner, data)
    earlier = backdate(upload_id)

    response = sign_range(api.client, upload_id, "1-3")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["expiresIn"] == SIGNED_URL_SECONDS
    assert [p["number"] for p in body["parts"]] == [1, 2, 3]
    assert len({p["url"] for p in body["parts"]}) == 3
    # Signing is activity: a live upload is not cleaned up as abandoned.
    assert Upload.objects.get(pk=upload_id).updated_at > earlier

    pieces = split(data, PART)
    etags = {}
    for signed in reversed(body["parts"]):  # any order, each to its own URL
        number = signed["number"]
        assert signed["url"].startswith(f"http://testserver/uploads/{upload_id}/parts/{number}?")
        put = api.client.put(signed["url"], pieces[number - 1], content_type="x/y")
        assert put.status_code == 200, put.content
        etags[number] = put["ETag"]
    listing = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.complete(upload_id, listing).status_code == 200
    with default_storage.open(Upload.objects.get(pk=upload_id).key) as stored:
        assert stored.read() == data


def test_a_url_signed_for_one_part_does_not_take_another(api, owner):
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, owner, data)
    second = sign_range(api.client, upload_id, "2-3").json()["parts"][0]
    wrong = second["url"].replace("/parts/2?", "/parts/1?")
    response = api.client.put(wrong, split(data, PART)[0], content_type="x/y")
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"


def test_a_single_number_signs_that_part(api, owner):
    upload_id = start(api, owner, padded_mp4(2 * PART + 10))
    body = sign_range(api.client, upload_id, "2").json()
    assert [p["number"] for p in body["parts"]] == [2]


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ("", "bad_range"),
        ("two", "bad_range"),
        ("1-", "bad_range"),
        ("1-2-3", "bad_range"),
        ("-1", "bad_range"),
        ("3-1", "bad_range"),  # backwards: nothing to sign
        ("0-2", "bad_part_number"),
        ("2-4", "bad_part_number"),  # the file has 3 parts
        ("4", "bad_part_number"),
        (f"1-{MAX_SIGNED_AT_ONCE + 1}", "bad_range"),  # too many at once
    ],
)
def test_bad_ranges_are_refused_and_nothing_changes(api, owner, parts, code):
    upload_id = start(api, owner, padded_mp4(2 * PART + 10))
    earlier = backdate(upload_id)
    response = sign_range(api.client, upload_id, parts)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["error"] == body["detail"] and "part" in body["error"]
    assert "parts" not in body
    assert Upload.objects.get(pk=upload_id).updated_at == earlier


def test_numbers_beyond_the_part_count_are_named_in_the_refusal(api, owner):
    upload_id = start(api, owner, padded_mp4(2 * PART + 10))
    response = sign_range(api.client, upload_id, "2-4")
    assert response.json()["error"] == "There is no part 4: this file has 3 part(s)."


def test_another_persons_upload_is_refused_as_missing_and_nothing_changes(api, owner, make_user):
    upload_id = start(api, owner, padded_mp4(2 * PART + 10))
    earlier = backdate(upload_id)
    intruder = Client()
    intruder.force_login(make_user(email="nosy@example.org"))

    response = sign_range(intruder, upload_id, "1-3")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "parts" not in response.json()
    upload = Upload.objects.get(pk=upload_id)
    assert upload.updated_at == earlier
    assert upload.status == Upload.Status.UPLOADING
    # Signed out, nothing is signed either.
    assert sign_range(Client(), upload_id, "1-3").status_code == 401


def test_a_finished_or_discarded_upload_signs_nothing(api, owner):
    upload_id = start(api, owner, padded_mp4(2 * PART + 10))
    assert api.abort(upload_id).status_code == 200
    response = sign_range(api.client, upload_id, "1-3")
    assert response.status_code == 409
    assert response.json()["code"] == "not_open"


def test_an_api_token_signs_a_run_of_parts_too(owner, make_user):
    data = padded_mp4(2 * PART + 10)
    _, secret = create_token(owner, name="script")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    upload_id = start(Protocol(client), owner, data)
    response = sign_range(client, upload_id, "1-3")
    assert response.status_code == 200
    assert len(response.json()["parts"]) == 3

    _, stranger_secret = create_token(make_user(email="other@example.org"), name="x")
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {stranger_secret}")
    assert sign_range(stranger, upload_id, "1-3").status_code == 404
