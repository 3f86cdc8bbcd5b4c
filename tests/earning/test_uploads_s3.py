"""The same multipart protocol on S3 storage, against a real `moto_server` on 127.0.0.1: our
endpoints call S3 with boto3, and parts are PUT straight to the presigned URLs, as a browser
does."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from django.test import Client

from microcred.earning.models import Upload
from microcred.earning.uploads import selectors

from .uploading import VIDEO_POLICY, MiB, Protocol, padded_mp4, split

PART = 5 * MiB
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(settings, moto_endpoint):
    """A fresh bucket, and the default storage switched to S3Storage on it."""
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "querystring_auth": True,
            },
        },
    }
    client.bucket = name
    return client


@pytest.fixture
def owner(make_user):
    return make_user(email="michelle@example.org")


@pytest.fixture
def api(owner) -> Protocol:
    client = Client()
    client.force_login(owner)
    return Protocol(client)


def start(api: Protocol, owner, data: bytes, name: str = "lesson.mp4") -> str:
    response = api.create(VIDEO_POLICY.token(owner), name=name, size=len(data), part_size=PART)
    assert response.status_code == 201, response.json()
    return response.json()["uploadId"]


def put_to_bucket(url: str, data: bytes) -> str:
    """PUT a part to its presigned URL, as the browser does; returns the ETag."""
    assert url.startswith("http://127.0.0.1:")  # straight to storage, not through Django
    request = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["ETag"]


def send(api: Protocol, upload_id: str, pieces: list[bytes], numbers: list[int]) -> dict[int, str]:
    return {n: put_to_bucket(api.sign(upload_id, n).json()["url"], pieces[n - 1]) for n in numbers}


def listing(etags: dict[int, str]) -> list[dict]:
    return [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]


def test_parts_go_to_the_bucket_and_resume_after_a_drop(
    api, owner, bucket, django_capture_on_commit_callbacks
):
    data = padded_mp4(2 * PART + 4321)
    upload_id = start(api, owner, data)
    upload = Upload.objects.get(pk=upload_id)
    assert upload.backend == Upload.Backend.S3
    pieces = split(data, PART)
    etags = send(api, upload_id, pieces, [1])

    # The connection drops; the browser lists what S3 holds and sends only the rest.
    listed = api.parts(upload_id).json()
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART)]
    etags |= send(api, upload_id, pieces, [2, 3])

    with django_capture_on_commit_callbacks(execute=True):
        response = api.complete(upload_id, listing(etags))
    assert response.status_code == 200, response.json()
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    stored = bucket.get_object(Bucket=bucket.bucket, Key=upload.key)["Body"].read()
    assert stored == data
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert upload.poster_key
    with urllib.request.urlopen(selectors.file_url(upload, "poster"), timeout=10) as poster:
        assert poster.read(3) == b"\xff\xd8\xff"  # a JPEG
    assert not bucket.list_multipart_uploads(Bucket=bucket.bucket).get("Uploads")


def test_completion_refuses_small_parts_and_wrong_etags(api, owner, bucket):
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, owner, data)
    pieces = split(data, PART)
    etags = {1: put_to_bucket(api.sign(upload_id, 1).json()["url"], pieces[0][:MiB])}
    etags |= send(api, upload_id, pieces, [2, 3])
    too_small = api.complete(upload_id, listing(etags))
    assert too_small.status_code == 400
    assert too_small.json()["error"] == (
        "Part 1 is 1.0\xa0MB; every part but the last must be at least 5 MiB."
    )
    etags |= send(api, upload_id, pieces, [1])
    wrong = api.complete(upload_id, [*listing(etags)[:2], {"PartNumber": 3, "ETag": '"00"'}])
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "etag_mismatch"
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.UPLOADING
    assert api.complete(upload_id, listing(etags)).status_code == 200


def test_a_renamed_text_file_is_rejected_and_deleted_from_the_bucket(api, owner, bucket):
    data = b"Not a video at all, just words.\n" * 100
    response = api.create(
        VIDEO_POLICY.token(owner), name="interview.mov", size=len(data), part_size=len(data)
    )
    upload_id = response.json()["uploadId"]
    etag = put_to_bucket(api.sign(upload_id, 1).json()["url"], data)
    rejected = api.complete(upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert rejected.status_code == 422
    assert "is plain text" in rejected.json()["error"]
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.FAILED
    with pytest.raises(ClientError):
        bucket.head_object(Bucket=bucket.bucket, Key=upload.key)


def test_a_half_done_upload_can_be_discarded_and_others_cannot_touch_it(
    api, owner, bucket, make_user
):
    data = padded_mp4(PART + 10)
    upload_id = start(api, owner, data)
    send(api, upload_id, split(data, PART), [1])

    intruder = Client()
    intruder.force_login(make_user(email="nosy@example.org"))
    other = Protocol(intruder)
    assert other.sign(upload_id, 2).status_code == 404
    assert other.abort(upload_id).status_code == 404
    assert len(bucket.list_multipart_uploads(Bucket=bucket.bucket)["Uploads"]) == 1

    assert api.abort(upload_id).json()["status"] == "aborted"
    assert not bucket.list_multipart_uploads(Bucket=bucket.bucket).get("Uploads")
    assert api.sign(upload_id, 2).status_code == 409
    assert api.parts(upload_id).status_code == 409


def test_one_request_presigns_a_run_of_parts_for_the_bucket(api, owner, bucket):
    data = padded_mp4(2 * PART + 77)
    upload_id = start(api, owner, data)
    response = api.client.get(f"/uploads/api/{upload_id}/parts/sign/", {"parts": "1-3"})
    assert response.status_code == 200, response.json()
    signed = response.json()["parts"]
    assert [p["number"] for p in signed] == [1, 2, 3]
    pieces = split(data, PART)
    etags = {p["number"]: put_to_bucket(p["url"], pieces[p["number"] - 1]) for p in signed}
    assert api.complete(upload_id, listing(etags)).status_code == 200
    stored = bucket.get_object(Bucket=bucket.bucket, Key=Upload.objects.get(pk=upload_id).key)
    assert stored["Body"].read() == data

    too_far = api.client.get(f"/uploads/api/{upload_id}/parts/sign/", {"parts": "3-4"})
    assert too_far.status_code == 409  # completed: nothing more is signed
