"""Each person's unfinished uploads are limited in number and in the bytes they reserve;
abandoned ones expire instead of holding a place for ever."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from microcred.earning.models import Upload
from microcred.earning.uploads import services
from microcred.earning.uploads.errors import UploadError
from microcred.earning.uploads.policy import UploadPolicy
from microcred.orgs.tokens import create_token

from .uploading import MiB, Protocol

PART = 5 * MiB
POLICY = UploadPolicy(allowed_types=("video/*",), max_bytes=100 * MiB, purpose="test")


@pytest.fixture(autouse=True)
def _small_quota(settings):
    settings.UPLOAD_MAX_OPEN = 2
    settings.UPLOAD_MAX_OPEN_BYTES = 50 * MiB
    settings.UPLOAD_ABANDONED_DAYS = 7


def _create(owner_client: Client, owner, size: int = 10 * MiB, name: str = "lesson.mp4"):
    return Protocol(owner_client).create(POLICY.token(owner), name=name, size=size, part_size=PART)


def test_too_many_open_uploads_are_refused_with_what_to_do(owner_client, owner):
    assert _create(owner_client, owner, name="one.mp4").status_code == 201
    assert _create(owner_client, owner, name="two.mp4").status_code == 201

    refused = _create(owner_client, owner, name="three.mp4")

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "upload_quota"
    # The API's one error shape, as the OpenAPI document declares it, for token clients.
    document = owner_client.get("/api/v1/openapi.json").json()
    schema = {"$ref": "#/components/schemas/ApiError", "components": document["components"]}
    jsonschema.validate(body, schema)
    assert body["detail"] == body["error"]
    assert "You already have 2 unfinished uploads" in body["error"]
    assert "Finish or discard unfinished uploads on your files page (/uploads/)" in body["error"]
    assert Upload.objects.filter(owner=owner).count() == 2


def test_too_many_reserved_bytes_are_refused(owner_client, owner):
    assert _create(owner_client, owner, size=40 * MiB).status_code == 201

    refused = _create(owner_client, owner, size=11 * MiB, name="big.mp4")

    assert refused.status_code == 429
    assert "already hold 40.0\xa0MB" in refused.json()["error"]
    assert "“big.mp4” (11.0\xa0MB) would pass the limit of 50.0\xa0MB" in refused.json()["error"]
    assert Upload.objects.filter(owner=owner).count() == 1
    # What fits still goes.
    assert _create(owner_client, owner, size=10 * MiB).status_code == 201


def test_finished_and_discarded_uploads_free_their_place(owner_client, owner):
    first = _create(owner_client, owner).json()["uploadId"]
    _create(owner_client, owner)
    assert _create(owner_client, owner).status_code == 429

    assert Protocol(owner_client).abort(first).status_code == 200
    assert _create(owner_client, owner).status_code == 201
    Upload.objects.filter(owner=owner, status=Upload.Status.UPLOADING).update(
        status=Upload.Status.COMPLETE
    )
    assert _create(owner_client, owner).status_code == 201


def test_each_person_has_their_own_quota(owner_client, owner, make_user):
    _create(owner_client, owner)
    _create(owner_client, owner)
    other = make_user(email="michelle@example.org")
    client = Client()
    client.force_login(other)
    assert _create(client, other).status_code == 201


def test_abandoned_uploads_expire_and_stop_counting(owner_client, owner):
    stale = _create(owner_client, owner).json()["uploadId"]
    _create(owner_client, owner)
    Upload.objects.filter(pk=stale).update(updated_at=timezone.now() - timedelta(days=8))

    assert _create(owner_client, owner).status_code == 201

    expired = Upload.objects.get(pk=stale)
    assert expired.status == Upload.Status.ABORTED
    assert expired.status_message == "Discarded after 7 days without progress."


def test_the_service_refuses_before_anything_is_stored(owner, settings):
    settings.UPLOAD_MAX_OPEN = 0
    with pytest.raises(UploadError) as refused:
        services.create_upload(
            owner, POLICY, filename="x.mp4", declared_type="video/mp4", size=MiB, part_size=MiB
        )
    assert refused.value.status == 429
    assert not Upload.objects.exists()


def test_the_files_page_lists_unfinished_uploads_with_a_discard_button(owner_client, owner):
    upload_id = _create(owner_client, owner, name="half.mp4").json()["uploadId"]
    page = owner_client.get("/uploads/list/").content.decode()
    assert "half.mp4" in page and "Unfinished" in page
    assert f"/uploads/{upload_id}/discard/" in page


def test_a_token_client_finds_and_discards_the_unfinished_uploads_holding_its_quota(
    owner_client, owner, make_user
):
    first = _create(owner_client, owner, name="one.mp4").json()["uploadId"]
    _create(owner_client, owner, name="two.mp4")
    _token, secret = create_token(owner, name="Evidence script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert _create(api, owner).status_code == 429

    listed = api.get("/uploads/api/")

    assert listed.status_code == 200
    rows = {row["name"]: row for row in listed.json()["uploads"]}
    assert rows["one.mp4"]["id"] == first and rows["one.mp4"]["status"] == "uploading"
    assert api.delete(f"/uploads/api/{first}/").status_code == 200
    assert _create(api, owner).status_code == 201
    # Only one's own uploads are listed.
    _other_token, other_secret = create_token(make_user(email="m@example.org"), name="Theirs")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    assert other.get("/uploads/api/").json() == {"uploads": []}
