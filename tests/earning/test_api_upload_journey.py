"""An earner with an API token uploads evidence entirely through the API, over real HTTP:
an upload policy for the part, the multipart protocol with the bearer token, the attach, and
the file in the portfolio. A token skips the CSRF check; a session still needs it."""

from __future__ import annotations

import struct

import pytest
from django.test import Client

from microcred.earning.models import Artifact, Attempt, Upload
from microcred.orgs.tokens import create_token
from tests.http_client import Http

from .portfolio_helpers import (
    video_bytes,
    world_fixture,  # noqa: F401 (the `world` fixture)
)
from .uploading import MiB, split

PART = 5 * MiB
API = "/api/v1/earning"


def three_second_video(size: int) -> bytes:
    """A real 3-second MP4 padded with a 'free' box to `size` bytes, so it needs two parts."""
    head = video_bytes(3)
    filler = size - len(head) - 8
    return head + struct.pack(">I", filler + 8) + b"free" + bytes(filler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_db")  # the flush after a transactional test removes them
def test_an_earner_uploads_and_attaches_evidence_with_only_a_token(live_server, world):
    _token, secret = create_token(world.earner, name="Evidence script")
    http = Http(live_server.url, secret)

    status, attempt, _ = http.call(
        "POST", f"{API}/attempts", {"micro_credential": world.version.micro_credential.slug}
    )
    assert status == 201
    attempt_id = attempt["id"]

    status, policy, _ = http.call(
        "POST", f"{API}/attempts/{attempt_id}/parts/{world.video.pk}/upload-policy"
    )
    assert status == 201, policy
    assert policy["allowed_types"] == ["video/mp4", "video/quicktime", "video/webm"]
    assert policy["max_bytes"] == 10 * MiB
    assert policy["create_url"] == f"{live_server.url}/uploads/api/"

    data = three_second_video(6 * MiB)
    status, created, _ = http.call(
        "POST",
        policy["create_url"],
        {
            "policy": policy["policy"],
            "filename": "lesson.mp4",
            "type": "video/mp4",
            "size": len(data),
            "partSize": PART,
        },
    )
    assert status == 201, created
    upload_id = created["uploadId"]

    parts = []
    for number, piece in enumerate(split(data, PART), start=1):
        status, signed, _ = http.call("GET", f"/uploads/api/{upload_id}/parts/{number}/sign/")
        assert status == 200 and signed["url"].startswith(live_server.url)
        # The signed URL is the authority for the bytes, as with S3: no token sent.
        status, _, headers = http.call("PUT", signed["url"], raw=piece, auth=False)
        assert status == 200
        parts.append({"PartNumber": number, "ETag": headers["ETag"]})
    assert len(parts) == 2

    status, completed, _ = http.call(
        "POST", f"/uploads/api/{upload_id}/complete/", {"parts": parts}
    )
    assert status == 200, completed
    assert completed["upload"]["status"] == "complete"

    status, artifact, _ = http.call("POST", policy["attach_url"], {"upload": upload_id})
    assert status == 201, artifact
    assert artifact["problem"] is None
    status, note, _ = http.call(
        "POST",
        f"{API}/attempts/{attempt_id}/files/{artifact['id']}/annotations",
        {"seconds": 1, "note": "Here I ask an open question."},
    )
    assert status == 201, note

    status, portfolio, _ = http.call("GET", f"{API}/attempts/{attempt_id}")
    assert status == 200
    video_part = next(p for p in portfolio["parts"] if p["requirement"] == world.video.pk)
    [file] = video_part["artifacts"]
    assert file["upload"] == upload_id and file["filename"] == "lesson.mp4"
    assert file["size"] == 6 * MiB and file["content_type"] == "video/mp4"
    assert 2.5 < file["duration_seconds"] < 3.5
    assert video_part["missing"] == []
    assert Artifact.objects.get().upload.owner == world.earner


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_db")  # the flush after a transactional test removes them
def test_a_bad_token_or_a_session_without_csrf_is_refused_and_nothing_starts(live_server, world):
    _token, secret = create_token(world.earner, name="Evidence script")
    http = Http(live_server.url, secret)
    _, attempt, _ = http.call(
        "POST", f"{API}/attempts", {"micro_credential": world.version.micro_credential.slug}
    )
    _, policy, _ = http.call(
        "POST", f"{API}/attempts/{attempt['id']}/parts/{world.video.pk}/upload-policy"
    )
    body = {
        "policy": policy["policy"],
        "filename": "lesson.mp4",
        "type": "video/mp4",
        "size": MiB,
        "partSize": MiB,
    }

    wrong = Http(live_server.url, "mct_not-a-token")
    status, refused, _ = wrong.call("POST", "/uploads/api/", body)
    assert status == 401 and refused["code"] == "bad_token"

    # Another person's token cannot use a policy made for the earner.
    _other_token, other_secret = create_token(world.stranger, name="Theirs")
    status, refused, _ = Http(live_server.url, other_secret).call("POST", "/uploads/api/", body)
    assert status == 403 and refused["code"] == "policy_invalid"

    # The browser's session still needs its CSRF token: only a bearer token skips it.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.earner)
    no_csrf = browser.post("/uploads/api/", body, content_type="application/json")
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf"
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_no_policy_for_a_text_part_another_persons_attempt_or_a_full_part(world):
    _token, secret = create_token(world.earner, name="Evidence script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    slug = world.version.micro_credential.slug
    attempt_id = api.post(
        f"{API}/attempts", {"micro_credential": slug}, content_type="application/json"
    ).json()["id"]

    text = api.post(f"{API}/attempts/{attempt_id}/parts/{world.written.pk}/upload-policy")
    assert text.status_code == 400
    assert text.json()["detail"] == "“Part 1. Your plan” takes text, not files."

    _t, stranger_secret = create_token(world.stranger, name="Theirs")
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {stranger_secret}")
    url = f"{API}/attempts/{attempt_id}/parts/{world.video.pk}/upload-policy"
    assert stranger.post(url).status_code == 404

    Attempt.objects.filter(uuid=attempt_id).update(status=Attempt.Status.WITHDRAWN)
    closed = api.post(url)
    assert closed.status_code == 409 and closed.json()["code"] == "not_editable"
