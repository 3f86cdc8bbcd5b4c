"""Shared by the blind-copy tests (test_blind_media, test_blind_documents): an earner's
submitted attempt with an assigned assessor, uploads sent through the real upload services
and processing, and files fetched over HTTP through the links the pages use."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from microcred.earning.evidence_access import signed_url
from microcred.earning.models import Artifact, EvidenceItem, Upload
from microcred.earning.uploads import services
from microcred.earning.uploads.backends import default_backend
from microcred.earning.uploads.policy import UploadPolicy

from .test_evidence_access import World
from .uploading import MiB, split

POLICY = UploadPolicy(
    allowed_types=(
        "video/*",
        "audio/*",
        "image/*",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    max_bytes=64 * MiB,
)
NAME, SCHOOL, GPS = "Ana Lopez", "Pine Elementary", "+35.7796-078.6382/"
# Every string that would tell an assessor who or where: the earner's name and school, the
# position and the device.
TRACES = [NAME.encode(), SCHOOL.encode(), b"+35.7796", b"iPhone", b"Apple"]


def make_world(org_tree, make_user, capture) -> World:
    """The evidence-access world, with its attempt's evidence item and the on-commit
    capture (`django_capture_on_commit_callbacks`) that runs the worker's task."""
    world = World(org_tree, make_user)
    world.item = EvidenceItem.objects.get(attempt=world.attempt)
    world.capture = capture
    return world


def send(world: World, data: bytes, name: str, *, process: bool = True) -> Upload:
    """The earner uploads `data` through the upload services (local disk) and attaches it to
    the submitted attempt's evidence; with `process`, the worker's task runs as it would."""
    upload = services.create_upload(
        world.earner, POLICY, filename=name, declared_type="", size=len(data), part_size=5 * MiB
    )
    backend = default_backend()
    stored = [
        backend.write_part(upload, n, io.BytesIO(piece), len(piece))
        for n, piece in enumerate(split(data, upload.part_size), start=1)
    ]
    claimed = [services.ClaimedPart(p.number, p.etag) for p in stored]
    with world.capture(execute=process):
        services.complete_upload(upload, claimed)
    Artifact.objects.create(evidence=world.item, upload=upload)
    upload.refresh_from_db()
    return upload


def fetch(user, upload: Upload, variant: str = "original"):
    """What the user's browser gets from the stable address a page links to."""
    client = Client()
    client.force_login(user)
    response = client.get(reverse("evidence:open", args=[upload.pk, variant]), follow=True)
    response.data = b"".join(response.streaming_content) if response.streaming else response.content
    return response


def saved(tmp_path: Path, response, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def assert_clean(data: bytes) -> None:
    for trace in TRACES:
        assert trace not in data, trace


def assert_command_remakes_copies(world: World, uploads: list[Upload]) -> None:
    """Uploads made before their kind had clean copies (none stored) get them from
    `make_blind_copies`, and the assessor can open them; a second run finds nothing to do."""
    Upload.objects.filter(pk__in=[u.pk for u in uploads]).update(blind_key="", blind_type="")
    uploads[0].refresh_from_db()
    assert signed_url(world.assessor, uploads[0]) == ""
    out = io.StringIO()
    call_command("make_blind_copies", stdout=out)
    assert out.getvalue().strip() == f"Queued {len(uploads)} upload(s) for their assessors' copy."
    for upload in uploads:
        upload.refresh_from_db()
        assert upload.blind_key
        opened = fetch(world.assessor, upload)
        assert opened.status_code == 200
        assert_clean(opened.data)
    call_command("make_blind_copies", stdout=out)
    assert "Queued 0 upload(s)" in out.getvalue()
