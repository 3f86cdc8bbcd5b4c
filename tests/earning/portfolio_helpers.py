"""Helpers for the earning (portfolio) tests: a small published MC whose parts are quick to
fill (a 20-word answer, a 2 to 4 second video with one note, a 10-word reflection), the people
around an attempt, and real uploads through the upload protocol."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion
from microcred.earning import services
from microcred.earning.models import Attempt, Upload
from microcred.earning.uploads.policy import UploadPolicy
from microcred.orgs.models import Organization

from ..catalog.factories import CatalogPeople, catalog_people, vary
from .uploading import MiB, Protocol, split, write_video

PART = 5 * MiB
# Any file the upload side recognises; the portfolio's own checks are what the tests exercise.
ANY_FILE = UploadPolicy(
    allowed_types=("video/*", "audio/*", "image/*", "application/pdf", "text/plain"),
    max_bytes=64 * MiB,
    purpose="test",
)


def small_content() -> Any:
    return vary(
        title="Questioning for deeper thinking",
        evidence=[
            {
                "kind": "written",
                "title": "Part 1. Your plan",
                "instructions": "Describe the lesson in at most 20 words.",
                "word_limit": 20,
            },
            {
                "kind": "video",
                "title": "Part 2. Classroom video",
                "instructions": "A 2 to 4 second clip of your teaching, with a note.",
                "min_duration_seconds": 2,
                "max_duration_seconds": 4,
                "requires_annotations": True,
                "min_annotations": 1,
                "allowed_types": ["video/mp4", "video/quicktime", "video/webm"],
                "max_file_size_mb": 10,
            },
            {
                "kind": "reflection",
                "title": "Part 3. Reflection",
                "instructions": "What did you learn? At most 10 words.",
                "word_limit": 10,
            },
        ],
    )


@dataclass
class World:
    catalog: CatalogPeople
    version: MicroCredentialVersion
    school: Organization
    earner: Any
    colleague: Any
    other_school_earner: Any
    stranger: Any
    principal: Any
    district_recognizer: Any

    def part(self, kind: str) -> EvidenceRequirement:
        return self.version.evidence_requirements.get(kind=kind)

    @property
    def written(self) -> EvidenceRequirement:
        return self.part("written")

    @property
    def video(self) -> EvidenceRequirement:
        return self.part("video")

    @property
    def reflection(self) -> EvidenceRequirement:
        return self.part("reflection")


@pytest.fixture(name="world")
def world_fixture(org_tree: dict[str, Organization], make_user: Any) -> World:
    people = catalog_people(org_tree, make_user)
    return World(
        catalog=people,
        version=people.publish(small_content()),
        school=org_tree["school1"],
        earner=make_user("earner", org_tree["school1"], first_name="Inez", last_name="Ruiz"),
        colleague=make_user("earner", org_tree["school1"], first_name="Michelle", last_name="Lee"),
        other_school_earner=make_user("earner", org_tree["school2"]),
        stranger=make_user("earner", org_tree["school1"]),
        principal=make_user("principal", org_tree["school1"]),
        district_recognizer=make_user("recognizer_admin", org_tree["lea1"]),
    )


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(
    user: Any, data: bytes, name: str, capture: Any, *, policy: UploadPolicy = ANY_FILE
) -> tuple[Upload, Any]:
    """Send a file through the real multipart protocol and run the media checks; returns the
    upload and the completion response (422 when the content was refused)."""
    client = signed_in(user)
    api = Protocol(client)
    created = api.create(policy.token(user), name=name, size=len(data), part_size=PART)
    upload_id = created.json()["uploadId"]
    parts = []
    for number, piece in enumerate(split(data, PART), start=1):
        url = api.sign(upload_id, number).json()["url"]
        parts.append(
            {"PartNumber": number, "ETag": client.put(url, piece, content_type="x/y")["ETag"]}
        )
    with capture(execute=True):
        response = api.complete(upload_id, parts)
    return Upload.objects.get(pk=upload_id), response


def video_bytes(seconds: float) -> bytes:
    buffer = io.BytesIO()
    write_video(buffer, seconds=seconds, audio=None)
    return buffer.getvalue()


def ready_portfolio(world: World, capture: Any, *, seconds: float = 3) -> Attempt:
    """An attempt of the earner with every part done, ready to submit."""
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.save_text(attempt, world.written, user=world.earner, text="We ask open questions.")
    services.save_text(attempt, world.reflection, user=world.earner, text="Wait time matters.")
    clip, _ = upload(world.earner, video_bytes(seconds), "lesson.mp4", capture)
    artifact = services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    services.add_annotation(
        artifact, user=world.earner, seconds=1, component_id=None, note="Open question here."
    )
    attempt.refresh_from_db()
    return attempt
