"""The multipart protocol on local disk, end to end through Django's test client: the browser's
requests (create, sign, PUT parts, list, complete, abort) and what lands on disk."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from microcred.earning.models import Upload, UploadPart
from microcred.earning.sample_media import write_video
from microcred.earning.uploads import local
from microcred.earning.uploads.errors import UploadRejected
from microcred.earning.uploads.policy import UploadPolicy
from microcred.earning.uploads.services import store_server_file

from .uploading import VIDEO_POLICY, MiB, Protocol, padded_mp4, split

PART = 5 * MiB


@pytest.fixture
def owner(make_user):
    return make_user(email="inez@example.org")


@pytest.fixture
def api(owner) -> Protocol:
    client = Client()
    client.force_login(owner)
    return Protocol(client)


@pytest.fixture
def token(owner) -> str:
    return VIDEO_POLICY.token(owner)


def start(api: Protocol, token: str, data: bytes, *, name: str = "lesson.mp4") -> str:
    response = api.create(token, name=name, size=len(data), part_size=PART)
    assert response.status_code == 201, response.json()
    return response.json()["uploadId"]


def put(api: Protocol, upload_id: str, number: int, data: bytes):
    url = api.sign(upload_id, number).json()["url"]
    return api.client.put(url, data, content_type="application/octet-stream")


def send_all(api: Protocol, upload_id: str, pieces: list[bytes], numbers=None) -> dict[int, str]:
    etags = {}
    for number in numbers or range(1, len(pieces) + 1):
        response = put(api, upload_id, number, pieces[number - 1])
        assert response.status_code == 200, response.content
        etags[number] = response["ETag"]
    return etags


def listing(etags: dict[int, str]) -> list[dict]:
    return [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]


def partial_path(upload_id: str) -> Path:
    return Path(default_storage.path(f"incoming/{upload_id}.partial"))


def test_a_file_sent_in_parts_is_stored_byte_for_byte(
    api, token, django_capture_on_commit_callbacks
):
    data = padded_mp4(2 * PART + 123_457)
    upload_id = start(api, token, data)
    pieces = split(data, PART)
    # Parts may arrive in any order; each is acknowledged with a tag of its own.
    etags = send_all(api, upload_id, pieces, numbers=[3, 1, 2])
    assert len(set(etags.values())) == 3

    listed = api.parts(upload_id).json()
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART), (2, PART), (3, 123_457)]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.complete(upload_id, listing(etags))
    assert response.status_code == 200, response.json()
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.COMPLETE
    assert upload.content_type == "video/mp4"
    with default_storage.open(upload.key) as stored:
        assert stored.read() == data
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.probe_status == Upload.ProbeStatus.READY
    assert upload.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert not partial_path(upload_id).exists()
    assert not UploadPart.objects.filter(upload=upload).exists()


def test_a_file_of_one_small_part(api, token, django_capture_on_commit_callbacks):
    data = padded_mp4(300_000)
    response = api.create(token, name="short.mp4", size=len(data), part_size=len(data))
    upload_id = response.json()["uploadId"]
    etag = put(api, upload_id, 1, data)["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.complete(upload_id, [{"PartNumber": 1, "ETag": etag}]).status_code == 200
    assert Upload.objects.get(pk=upload_id).sha256 == hashlib.sha256(data).hexdigest()


class DroppedConnection(io.RawIOBase):
    """A request body whose sender vanished after `sent` bytes."""

    def __init__(self, data: bytes, sent: int) -> None:
        self.stream = io.BytesIO(data[:sent])

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)


def test_a_dropped_connection_resumes_with_only_the_missing_parts(api, token):
    data = padded_mp4(2 * PART + 1000)
    upload_id = start(api, token, data)
    pieces = split(data, PART)
    etags = send_all(api, upload_id, pieces, numbers=[1])

    url = api.sign(upload_id, 2).json()["url"]
    dropped = api.client.generic(
        "PUT",
        url,
        b"",
        CONTENT_LENGTH=str(PART),
        **{"wsgi.input": DroppedConnection(pieces[1], sent=PART // 3)},
    )
    assert dropped.status_code == 400
    assert "dropped" in dropped.json()["error"]

    # The browser comes back (same tab, or the page after a reload) and asks what is stored.
    stored = {p["PartNumber"] for p in api.parts(upload_id).json()}
    assert stored == {1}
    missing = [n for n in range(1, len(pieces) + 1) if n not in stored]
    etags |= send_all(api, upload_id, pieces, numbers=missing)
    assert api.complete(upload_id, listing(etags)).status_code == 200
    with default_storage.open(Upload.objects.get(pk=upload_id).key) as stored_file:
        assert stored_file.read() == data


def test_an_upload_stopped_half_way_stays_resumable_then_can_be_discarded(api, token):
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, token, data)
    etags = send_all(api, upload_id, split(data, PART), numbers=[1])
    old_url = api.sign(upload_id, 2).json()["url"]

    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.UPLOADING
    assert [p["PartNumber"] for p in api.parts(upload_id).json()] == [1]
    assert '"1"' not in str(etags)  # parts keep their real ETags while waiting

    response = api.abort(upload_id)
    assert response.status_code == 200
    assert response.json()["status"] == "aborted"
    assert not partial_path(upload_id).exists()
    assert not UploadPart.objects.filter(upload_id=upload_id).exists()
    # Nothing more is accepted: not a new signature, not a part on an old one.
    assert api.sign(upload_id, 2).status_code == 409
    late = api.client.put(old_url, split(data, PART)[1], content_type="application/octet-stream")
    assert late.status_code == 409
    assert api.abort(upload_id).status_code == 200  # discarding twice is harmless


def test_only_the_owner_can_touch_an_upload(api, token, make_user):
    data = padded_mp4(PART + 10)
    upload_id = start(api, token, data)
    etags = send_all(api, upload_id, split(data, PART), numbers=[1])
    intruder = Client()
    intruder.force_login(make_user(email="someone@example.org"))
    other = Protocol(intruder)
    answers = [
        other.sign(upload_id, 2),
        other.parts(upload_id),
        other.detail(upload_id),
        other.complete(upload_id, listing(etags)),
        other.abort(upload_id),
    ]
    assert {r.status_code for r in answers} == {404}
    assert answers[0].json()["error"] == "There is no such upload."
    assert answers[0].json()["code"] == "not_found"
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.UPLOADING
    assert UploadPart.objects.filter(upload_id=upload_id).count() == 1
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.sign(unknown, 1).status_code == 404
    assert api.detail(unknown).status_code == 404


def _signed(upload_id: str, number: int, expires: int) -> str:
    signature = local._signature(local._PART_SALT, upload_id, number, expires)
    return f"/uploads/{upload_id}/parts/{number}?expires={expires}&signature={signature}"


def test_part_urls_expire_and_are_bound_to_upload_and_part(api, token):
    data = padded_mp4(PART + 10)
    upload_id = start(api, token, data)
    other_id = start(api, token, data, name="other.mp4")
    piece = split(data, PART)[0]
    url = api.sign(upload_id, 1).json()["url"]
    query = parse_qs(urlsplit(url).query)

    def put_raw(path: str):
        return api.client.put(path, piece, content_type="application/octet-stream")

    expired = put_raw(_signed(upload_id, 1, int(time.time()) - 1))
    assert expired.status_code == 403
    assert "expired" in expired.json()["error"]
    other_part = f"/uploads/{upload_id}/parts/2?expires={query['expires'][0]}"
    assert put_raw(f"{other_part}&signature={query['signature'][0]}").status_code == 403
    other_upload = url.replace(upload_id, other_id)
    assert put_raw(other_upload).status_code == 403
    assert put_raw(url.replace("signature=", "signature=0")).status_code == 403
    assert put_raw(f"/uploads/{upload_id}/parts/1").status_code == 403
    assert not UploadPart.objects.exists()
    assert put_raw(url).status_code == 200


def test_a_part_of_the_wrong_size_is_refused(api, token):
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, token, data)
    response = put(api, upload_id, 1, data[: 1 * MiB])
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Part 1 is 1.0\xa0MB, but every part but the last of this file must be 5.0\xa0MB "
        "(5,242,880 bytes)."
    )
    assert not UploadPart.objects.exists()


def test_a_part_damaged_on_the_way_is_refused_when_the_client_sent_its_md5(api, token):
    data = padded_mp4(PART + 10)
    upload_id = start(api, token, data)
    piece = split(data, PART)[0]
    url = api.sign(upload_id, 1).json()["url"]
    digest = base64.b64encode(hashlib.md5(piece).digest()).decode()
    damaged = piece[:-1] + b"?"
    response = api.client.put(url, damaged, content_type="x/y", headers={"Content-MD5": digest})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_digest"
    assert not UploadPart.objects.exists()
    fine = api.client.put(url, piece, content_type="x/y", headers={"Content-MD5": digest})
    assert fine.status_code == 200
    assert fine["ETag"] == f'"{hashlib.md5(piece).hexdigest()}"'  # as S3 does then


def test_a_part_sent_again_gets_a_new_tag_so_only_the_last_one_completes(api, token):
    data = padded_mp4(PART + 10)
    upload_id = start(api, token, data)
    pieces = split(data, PART)
    first = send_all(api, upload_id, pieces, numbers=[1, 2])
    again = send_all(api, upload_id, pieces, numbers=[1])
    assert again[1] != first[1]
    assert api.complete(upload_id, listing(first)).status_code == 400
    assert api.complete(upload_id, listing(first | again)).status_code == 200


def test_completion_checks_the_parts_like_s3(api, token):
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, token, data)
    etags = send_all(api, upload_id, split(data, PART), numbers=[1, 2])
    cases = [
        (list(reversed(listing(etags))), "in order"),
        ([{"PartNumber": 1, "ETag": etags[1]}, {"PartNumber": 2, "ETag": '"0abc"'}], "not match"),
        (listing(etags), "Part 3 of 3 has not been uploaded yet."),
    ]
    for parts, message in cases:
        response = api.complete(upload_id, parts)
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert Upload.objects.get(pk=upload_id).status == Upload.Status.UPLOADING
    etags |= send_all(api, upload_id, split(data, PART), numbers=[3])
    assert api.complete(upload_id, listing(etags)).status_code == 200
    # A repeated completion (a double click) answers the same and changes nothing.
    again = api.complete(upload_id, listing(etags))
    assert again.status_code == 200
    assert again.json()["upload"]["status"] == "complete"


def test_completion_waits_for_parts_still_being_written(api, token):
    data = padded_mp4(PART + 10)
    upload_id = start(api, token, data)
    etags = send_all(api, upload_id, split(data, PART))
    with partial_path(upload_id).open("rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_SH)  # as a part upload in progress holds it
        response = api.complete(upload_id, listing(etags))
    assert response.status_code == 409
    assert "still arriving" in response.json()["error"]
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.UPLOADING
    assert api.complete(upload_id, listing(etags)).status_code == 200


def test_a_text_file_renamed_to_look_like_a_video_is_rejected_and_deleted(api, token):
    data = b"These are my lesson notes, not a video.\n" * 200
    response = api.create(token, name="lesson.mp4", size=len(data), part_size=len(data))
    upload_id = response.json()["uploadId"]
    etag = put(api, upload_id, 1, data)["ETag"]
    response = api.complete(upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert response.status_code == 422
    assert response.json()["error"] == (
        "Only videos can be uploaded here, and the content of “lesson.mp4” is plain text, "
        "whatever its name says. We removed the file; please choose the original one."
    )
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.FAILED
    assert upload.content_type == "text/plain"
    assert not default_storage.exists(upload.key)


def test_limits_come_from_the_signed_policy(api, token, owner, make_user):
    too_big = api.create(token, name="huge.mp4", size=65 * MiB, part_size=16 * MiB)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == (
        "“huge.mp4” is 65.0\xa0MB; files here can be at most 64.0\xa0MB."
    )
    assert api.create(token, name="e.mp4", size=0, part_size=PART).json()["code"] == "empty"
    small_parts = api.create(token, name="a.mp4", size=20 * MiB, part_size=MiB)
    assert "at least 5 MiB" in small_parts.json()["error"]
    roomy = UploadPolicy(("video/*",), max_bytes=200 * 1024**3).token(owner)
    many = api.create(roomy, name="a.mp4", size=60 * 1024**3, part_size=PART)
    assert "10,000 parts" in many.json()["error"]
    tampered = api.create(token[:-2] + "xx", name="a.mp4", size=PART, part_size=PART)
    assert tampered.status_code == 403
    someone_elses = VIDEO_POLICY.token(make_user(email="other@example.org"))
    assert api.create(someone_elses, name="a.mp4", size=PART, part_size=PART).status_code == 403
    bad_size = api.client.post(
        "/uploads/api/",
        {"filename": "a.mp4", "size": "12", "partSize": 12, "policy": token},
        content_type="application/json",
    )
    assert bad_size.json()["error"] == "“size” must be a whole number."
    assert bad_size.json()["code"] == "bad_field"
    assert not Upload.objects.exists()


def test_json_endpoints_need_a_session_and_a_csrf_token(owner, token):
    anonymous = Protocol(Client())
    response = anonymous.create(token, name="a.mp4", size=PART, part_size=PART)
    assert response.status_code == 401
    assert "Sign in again" in response.json()["error"]

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    refused = Protocol(strict).create(token, name="a.mp4", size=PART, part_size=PART)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf"
    strict.get("/uploads/")  # the page sets the CSRF cookie, as in a browser
    allowed = strict.post(
        "/uploads/api/",
        {"filename": "a.mp4", "size": PART, "partSize": PART, "policy": token},
        content_type="application/json",
        headers={"X-CSRFToken": strict.cookies["csrftoken"].value},
    )
    assert allowed.status_code == 201


def test_abandoned_uploads_are_cleaned_after_n_days(api, token):
    data = padded_mp4(PART + 10)
    stale_id = start(api, token, data, name="stale.mp4")
    send_all(api, stale_id, split(data, PART), numbers=[1])
    fresh_id = start(api, token, data, name="fresh.mp4")
    Upload.objects.filter(pk=stale_id).update(updated_at=timezone.now() - timedelta(days=8))

    out = io.StringIO()
    call_command("clean_uploads", days=7, stdout=out)
    assert "Discarded 1 abandoned upload(s)." in out.getvalue()
    stale = Upload.objects.get(pk=stale_id)
    assert stale.status == Upload.Status.ABORTED
    assert stale.status_message == "Discarded after 7 days without progress."
    assert not partial_path(stale_id).exists()
    assert Upload.objects.get(pk=fresh_id).status == Upload.Status.UPLOADING
    assert partial_path(fresh_id).exists()


def test_a_file_on_the_server_is_stored_and_probed_like_a_browser_upload(make_user, tmp_path):
    user = make_user()
    clip = tmp_path / "lesson.mp4"
    write_video(clip, seconds=4, fps=2, audio=None)
    upload = store_server_file(user, VIDEO_POLICY, clip, filename="lesson.mp4")
    assert upload.status == Upload.Status.COMPLETE and upload.owner == user
    assert upload.probe_status == Upload.ProbeStatus.READY
    assert round(upload.duration_seconds) == 4

    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    with pytest.raises(UploadRejected):
        store_server_file(user, VIDEO_POLICY, text, filename="notes.mp4")


def test_declaring_an_upload_takes_no_disk_and_each_part_arrives_in_allocated_blocks(api, token):
    # Declared uploads (up to 24 GiB an account) must not fill the disk before any byte is
    # sent; a part's blocks are allocated as it arrives (faster direct writes).
    data = padded_mp4(2 * PART + 10)
    upload_id = start(api, token, data)
    path = partial_path(upload_id)
    assert path.stat().st_size == len(data)
    assert path.stat().st_blocks * 512 < PART

    put(api, upload_id, 1, data[:PART])

    assert PART <= path.stat().st_blocks * 512 < 2 * PART
    assert api.abort(upload_id).status_code == 200
    assert not path.exists()
