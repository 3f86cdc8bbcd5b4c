"""Evidence links handed to an API client work for that client (issue 8, finding 9).

A link from `evidence_access.signed_url` is the capability, like a presigned S3 URL: it works
without a session cookie for a few minutes, for the person it was made for only, while they
still have access. These tests take a real API token through the real HTTP endpoints."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from microcred.assessment import services
from microcred.assessment.models import Assignment
from microcred.earning import evidence_access
from microcred.earning.models import Upload
from microcred.orgs import tokens
from tests.assessment import conftest as assessment

pytestmark = pytest.mark.django_db

# The assessment tests' real submission (start, write, attach a video, submit), as it is.
version = assessment.version
make_assessor = assessment.make_assessor
make_earner = assessment.make_earner
make_submission = assessment.make_submission

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def assigned(make_assessor, make_submission) -> Assignment:
    make_assessor()
    assignment = services.assign(make_submission())
    # The playable copy the worker would have made; the player's link points at it.
    for upload in Upload.objects.filter(artifact__evidence__attempt=assignment.submission.attempt):
        default_storage.save(upload.key, ContentFile(VIDEO))
        playable = upload.key.replace(".mp4", ".playable.mp4")
        default_storage.save(playable, ContentFile(VIDEO))
        Upload.objects.filter(pk=upload.pk).update(playable_key=playable, playable_type="video/mp4")
    return assignment


def link_for(client: Client, assignment: Assignment) -> str:
    response = client.get(f"/api/v1/assessment/assignments/{assignment.pk}")
    assert response.status_code == 200
    return next(f["url"] for part in response.json()["evidence"] for f in part["files"])


def test_the_api_client_opens_the_link_it_was_given_with_its_token(assigned):
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    url = link_for(bearer(secret), assigned)
    assert url.startswith("/evidence/files/?token=")
    response = bearer(secret).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VIDEO
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"] == 'inline; filename="evidence.mp4"'  # blind
    ranged = bearer(secret).get(url, headers={"Range": "bytes=4-11"})
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == VIDEO[4:12]


def test_the_link_works_without_a_session_or_token_like_a_presigned_url(assigned):
    """A download tool given the link (or the file origin, which never sees our cookie)."""
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    url = link_for(bearer(secret), assigned)
    response = Client().get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VIDEO


@pytest.mark.parametrize("who", ["other_token", "revoked_token", "wrong_token", "other_session"])
def test_anyone_identified_as_someone_else_gets_nothing(assigned, make_earner, who):
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    url = link_for(bearer(secret), assigned)
    other = make_earner(email="someone@example.org")
    if who == "other_token":
        client = bearer(tokens.create_token(other, name="theirs")[1])
    elif who == "revoked_token":
        token, revoked = tokens.create_token(assigned.assessor.user, name="old")
        tokens.revoke_token(token, actor=assigned.assessor.user)
        client = bearer(revoked)
    elif who == "wrong_token":
        client = bearer("mct_not-a-token")
    else:
        client = Client()
        client.force_login(other)
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "There is no such file."


def test_the_link_dies_with_the_access_it_was_made_for(assigned):
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    url = link_for(bearer(secret), assigned)
    Assignment.objects.filter(pk=assigned.pk).update(status=Assignment.Status.CANCELLED)
    assert bearer(secret).get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_the_link_dies_when_its_person_is_deactivated(assigned):
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    url = link_for(bearer(secret), assigned)
    type(assigned.assessor.user).objects.filter(pk=assigned.assessor.user.pk).update(
        is_active=False
    )
    assert Client().get(url).status_code == 404


def test_an_expired_link_is_refused_whoever_presents_it(assigned):
    _, secret = tokens.create_token(assigned.assessor.user, name="scoring script")
    later = time.time() + evidence_access.LINK_SECONDS + 5
    url = link_for(bearer(secret), assigned)
    with mock.patch("time.time", return_value=later):
        response = bearer(secret).get(url)
    assert response.status_code == 403
    assert "expired" in response.content.decode()
