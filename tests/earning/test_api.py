"""The earning JSON API: the same services as the pages, session auth, 404 for other people."""

from __future__ import annotations

import pytest

from microcred.earning.models import Annotation, Artifact, Attempt, EvidenceItem, Submission

from .portfolio_helpers import (
    signed_in,
    upload,
    video_bytes,
    world_fixture,  # noqa: F401 (the `world` fixture)
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/earning"


def _start(client, world):
    slug = world.version.micro_credential.slug
    return client.post(
        f"{BASE}/attempts", {"micro_credential": slug}, content_type="application/json"
    )


def test_signed_out_gets_401(client, world):
    assert _start(client, world).status_code == 401
    assert not Attempt.objects.exists()


def test_the_whole_earner_path(world, django_capture_on_commit_callbacks):
    api = signed_in(world.earner)
    started = _start(api, world)
    assert started.status_code == 201
    attempt_id = started.json()["id"]
    assert _start(api, world).status_code == 200  # the open attempt, not a second one
    assert Attempt.objects.count() == 1
    portfolio = api.get(f"{BASE}/attempts/{attempt_id}").json()
    assert portfolio["complete"] is False
    assert [p["title"] for p in portfolio["parts"]] == [
        "Part 1. Your plan",
        "Part 2. Classroom video",
        "Part 3. Reflection",
    ]
    assert portfolio["parts"][0]["missing"] == ["Write your answer to “Part 1. Your plan”."]

    def put_text(part, text):
        return api.put(
            f"{BASE}/attempts/{attempt_id}/parts/{part.pk}/text",
            {"text": text},
            content_type="application/json",
        )

    assert put_text(world.written, "A plan in five words.").json() == {"words": 5}
    too_long = put_text(world.written, "word " * 21)
    assert too_long.status_code == 400 and "limit is 20" in too_long.json()["detail"]
    # The service's field comes through in the API's one error shape.
    assert [e["field"] for e in too_long.json()["errors"]] == ["text"]
    assert EvidenceItem.objects.get(requirement=world.written).text == "A plan in five words."
    put_text(world.reflection, "Short.")

    files = f"{BASE}/attempts/{attempt_id}/parts/{world.video.pk}/files"
    fake, _ = upload(world.earner, b"text\n" * 200, "x.mp4", django_capture_on_commit_callbacks)
    refused = api.post(files, {"upload": str(fake.pk)}, content_type="application/json")
    assert refused.status_code == 400 and "whatever its name says" in refused.json()["detail"]
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    attached = api.post(files, {"upload": str(clip.pk)}, content_type="application/json")
    assert attached.status_code == 201
    assert attached.json()["content_type"] == "video/mp4"
    assert attached.json()["problem"] is None

    submit = f"{BASE}/attempts/{attempt_id}/submit"
    incomplete = api.post(submit)
    assert incomplete.status_code == 400 and "time-stamped note" in incomplete.json()["detail"]
    note = api.post(
        f"{BASE}/attempts/{attempt_id}/files/{attached.json()['id']}/annotations",
        {"seconds": 2, "note": "Students explain."},
        content_type="application/json",
    )
    assert note.status_code == 201 and note.json()["seconds"] == 2

    sent = api.post(submit)
    assert sent.status_code == 201 and sent.json()["number"] == 1
    assert api.post(submit).status_code == 400
    assert Submission.objects.count() == 1
    history = api.get(f"{BASE}/attempts/{attempt_id}/submissions").json()
    assert [(s["number"], s["decision"]) for s in history] == [(1, None)]
    withdrawn = api.post(f"{BASE}/attempts/{attempt_id}/submissions/1/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"


def test_another_earner_gets_404_and_changes_nothing(world, django_capture_on_commit_callbacks):
    owner = signed_in(world.earner)
    attempt_id = _start(owner, world).json()["id"]
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    artifact_id = owner.post(
        f"{BASE}/attempts/{attempt_id}/parts/{world.video.pk}/files",
        {"upload": str(clip.pk)},
        content_type="application/json",
    ).json()["id"]
    for outsider in (world.colleague, world.other_school_earner):
        api = signed_in(outsider)
        json = "application/json"
        responses = [
            api.get(f"{BASE}/attempts/{attempt_id}"),
            api.put(
                f"{BASE}/attempts/{attempt_id}/parts/{world.written.pk}/text",
                {"text": "Hijack"},
                content_type=json,
            ),
            api.post(
                f"{BASE}/attempts/{attempt_id}/files/{artifact_id}/annotations",
                {"seconds": 1, "note": "x"},
                content_type=json,
            ),
            api.post(f"{BASE}/attempts/{attempt_id}/submit"),
            api.get(f"{BASE}/attempts/{attempt_id}/submissions"),
            api.post(f"{BASE}/attempts/{attempt_id}/submissions/1/withdraw"),
        ]
        assert [r.status_code for r in responses] == [404] * len(responses)
    assert not EvidenceItem.objects.filter(text="Hijack").exists()
    assert not Annotation.objects.exists() and not Submission.objects.exists()
    assert Artifact.objects.count() == 1
