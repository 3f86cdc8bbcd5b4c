"""The upload page, its list of files, discarding an unfinished upload, and signed downloads."""

from __future__ import annotations

import hashlib
import re
import time
from html import unescape

import pytest
from django.test import Client

from microcred.earning.models import Upload
from microcred.earning.uploads import local, selectors
from microcred.earning.uploads.policy import UploadPolicy

from .uploading import MiB, Protocol, padded_mp4, split

PART = 5 * MiB


def policy_from(page: str, user) -> UploadPolicy:
    token = unescape(re.search(r'data-policy="([^"]+)"', page).group(1))
    return UploadPolicy.from_token(token, user)


def half_done(owner_client: Client, owner, data: bytes, name: str = "lesson.mp4") -> str:
    api = Protocol(owner_client)
    token = policy_from(owner_client.get("/uploads/").content.decode(), owner).token(owner)
    upload_id = api.create(token, name=name, size=len(data), part_size=PART).json()["uploadId"]
    url = api.sign(upload_id, 1).json()["url"]
    assert owner_client.put(url, split(data, PART)[0], content_type="x/y").status_code == 200
    return upload_id


def finished(owner_client: Client, owner, data: bytes, name: str, capture) -> Upload:
    api = Protocol(owner_client)
    token = policy_from(owner_client.get("/uploads/").content.decode(), owner).token(owner)
    upload_id = api.create(token, name=name, size=len(data), part_size=PART).json()["uploadId"]
    parts = []
    for number, piece in enumerate(split(data, PART), start=1):
        url = api.sign(upload_id, number).json()["url"]
        etag = owner_client.put(url, piece, content_type="x/y")["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    with capture(execute=True):
        assert api.complete(upload_id, parts).status_code == 200
    return Upload.objects.get(pk=upload_id)


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/uploads/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get("/uploads/list/").status_code == 302


def test_the_page_offers_an_uploader_bound_to_a_signed_policy(owner_client, owner):
    response = owner_client.get("/uploads/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<label for="library-file">Choose a file to upload</label>' in page
    assert 'aria-describedby="library-file-help"' in page
    assert "videos, audio recordings, images or PDF documents" in page
    assert 'accept="video/*,audio/*,image/*,application/pdf"' in page
    assert "/static/vendor/uppy/uppy.min.mjs" in page
    assert "/static/earning/uploader.js" in page
    policy = policy_from(page, owner)
    assert policy.allows("video/quicktime") and not policy.allows("text/plain")
    assert "No files yet" in page


def test_an_unfinished_upload_is_offered_for_resuming(owner_client, owner):
    data = padded_mp4(2 * PART + 100)
    upload_id = half_done(owner_client, owner, data)
    page = owner_client.get("/uploads/").content.decode()
    assert "You have unfinished uploads." in page
    assert "“lesson.mp4”: 49% uploaded" in page
    assert f'action="/uploads/{upload_id}/discard/"' in page
    resume = re.search(r'id="library-file-resume" type="application/json">(.*?)</script>', page)
    assert f'"uploadId": "{upload_id}"' in resume.group(1)
    assert f'"partSize": {PART}' in resume.group(1)


def test_the_owner_can_discard_an_unfinished_upload_and_nobody_else(owner_client, owner, make_user):
    upload_id = half_done(owner_client, owner, padded_mp4(PART + 100))
    intruder = Client()
    intruder.force_login(make_user(email="other@example.org"))
    assert intruder.post(f"/uploads/{upload_id}/discard/").status_code == 404
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.UPLOADING

    response = owner_client.post(f"/uploads/{upload_id}/discard/", follow=True)
    assert "Discarded the unfinished upload of “lesson.mp4”." in response.content.decode()
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.ABORTED
    assert "You have unfinished uploads." not in response.content.decode()
    again = owner_client.post(f"/uploads/{upload_id}/discard/", follow=True)
    assert again.status_code == 200  # discarding twice says nothing alarming


def test_the_list_shows_status_size_length_and_poster(
    owner_client, owner, django_capture_on_commit_callbacks
):
    upload = finished(
        owner_client,
        owner,
        padded_mp4(PART + 100),
        "lesson.mp4",
        django_capture_on_commit_callbacks,
    )
    fragment = owner_client.get("/uploads/list/").content.decode()
    assert '<th scope="col">Length</th>' in fragment
    assert ">lesson.mp4</a>" in fragment
    assert "Uploaded" in fragment
    assert "5.0\xa0MB" in fragment
    assert '<td data-label="Length">1 s</td>' in fragment
    assert 'alt="A frame from lesson.mp4"' in fragment
    assert "every 3s" not in fragment  # nothing left to wait for
    assert upload.poster_key


def test_the_list_polls_while_a_file_is_being_checked_and_shows_rejections(owner_client, owner):
    Upload.objects.create(
        owner=owner,
        key="uploads/x/a.mp4",
        backend="local",
        filename="waiting.mp4",
        size=10,
        part_size=10,
        max_bytes=10,
        status=Upload.Status.COMPLETE,
    )
    Upload.objects.create(
        owner=owner,
        key="uploads/x/b.mp4",
        backend="local",
        filename="notes.mp4",
        size=10,
        part_size=10,
        max_bytes=10,
        status=Upload.Status.FAILED,
        status_message="Only videos can be uploaded here.",
    )
    fragment = owner_client.get("/uploads/list/").content.decode()
    assert "every 3s" in fragment
    assert "Uploaded; checking the file" in fragment
    assert "Rejected</span>: Only videos can be uploaded here." in fragment


def test_files_are_served_only_through_fresh_signed_urls(
    owner_client, owner, django_capture_on_commit_callbacks, make_user
):
    data = padded_mp4(PART + 100)
    upload = finished(owner_client, owner, data, "lesson.mp4", django_capture_on_commit_callbacks)
    url = selectors.file_url(upload, "download")
    anonymous = Client()
    whole = anonymous.get(url)
    assert whole.status_code == 200
    assert whole["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(b"".join(whole.streaming_content)).hexdigest() == upload.sha256
    part = anonymous.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]
    assert anonymous.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416

    other_key = url.replace("original.mp4", "poster.jpg")
    assert other_key != url
    assert anonymous.get(other_key).status_code == 403
    expires = int(time.time()) - 1
    signature = local._signature(local._FILE_SALT, upload.key, "video/mp4", "", expires)
    stale = f"/uploads/files/?key={upload.key}&type=video/mp4&name=&expires={expires}"
    assert anonymous.get(f"{stale}&signature={signature}").status_code == 403
    # Only the owner is handed such URLs.
    with pytest.raises(Exception, match="no such upload"):
        selectors.upload_for(make_user(email="x@example.org"), upload.pk)
