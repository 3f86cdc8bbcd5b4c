"""Earning reads: members, the checklist, upload rules per part, the dashboard."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from microcred.earning import selectors, services
from microcred.earning.models import Upload
from microcred.earning.uploads.policy import MiB

from .portfolio_helpers import (
    ready_portfolio,
    upload,
    video_bytes,
    world_fixture,  # noqa: F401 (the `world` fixture)
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "words"),
    [("", 0), ("   ", 0), ("one", 1), ("two  words\n", 2), ("3:15 - engaging, well.", 4)],
)
def test_word_count(text, words):
    assert selectors.word_count(text) == words


def test_a_solo_attempt_credits_the_earner_only(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    assert selectors.attempt_members(attempt) == [world.earner]


def test_a_team_member_starting_the_same_mc_returns_to_the_team_attempt(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.create_team(attempt, user=world.earner, name="PLC")
    member = services.invite(attempt, user=world.earner, invitee_id=world.colleague.pk)
    services.respond_to_invitation(member, user=world.colleague, accept=True)
    again, created = services.start_attempt(world.version, user=world.colleague)
    assert again == attempt and not created


def test_joining_a_team_while_holding_an_own_attempt_is_refused(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.start_attempt(world.version, user=world.colleague)
    services.create_team(attempt, user=world.earner, name="PLC")
    member = services.invite(attempt, user=world.earner, invitee_id=world.colleague.pk)
    with pytest.raises(ValidationError, match="already have your own attempt"):
        services.respond_to_invitation(member, user=world.colleague, accept=True)


def test_upload_rules_come_from_the_requirement(world):
    video = selectors.upload_policy(world.video)
    assert video.allowed_types == ("video/mp4", "video/quicktime", "video/webm")
    assert video.max_bytes == 10 * MiB
    assert video.allows("video/mp4") and not video.allows("text/plain")


def test_attachable_uploads_are_own_finished_and_of_an_accepted_type(
    world, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", capture)
    upload(world.earner, b"text\n" * 100, "notes.txt", capture)
    upload(world.colleague, video_bytes(3), "theirs.mp4", capture)
    assert selectors.attachable_uploads(world.earner, world.video) == [clip]
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    assert selectors.attachable_uploads(world.earner, world.video) == []


def test_the_checklist_empties_as_parts_are_done(world, django_capture_on_commit_callbacks):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    assert len(selectors.portfolio(attempt).missing) == 3
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    portfolio = selectors.portfolio(attempt)
    assert portfolio.complete and portfolio.missing == []


def test_submission_evidence_reads_the_snapshot_not_the_live_portfolio(
    world, django_capture_on_commit_callbacks
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    submission = services.submit(attempt, user=world.earner)
    services.apply_decision(submission, "not_yet")
    services.save_text(attempt, world.written, user=world.earner, text="Rewritten later.")
    parts = selectors.submission_evidence(submission)
    assert [p.requirement for p in parts] == [world.written, world.video, world.reflection]
    assert parts[0].text == "We ask open questions."
    clip = parts[1].artifacts[0]
    assert clip.upload is not None and clip.filename == "lesson.mp4"
    assert [(n.timestamp, n.note) for n in clip.annotations] == [("0:01", "Open question here.")]


def test_dashboard_items_name_the_next_step(world):
    assert selectors.dashboard_items(world.earner) == []
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    [item] = selectors.dashboard_items(world.earner)
    assert item.attempt == attempt
    assert item.next_step == "Collect your evidence and submit it."
    assert item.url == f"/earn/{attempt.uuid}/"
    assert selectors.dashboard_items(world.colleague) == []


def test_a_file_still_being_checked_blocks_submit(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    # As right after upload, before the task computed the hash.
    Upload.objects.update(sha256="")
    missing = [problem for _, problem in selectors.portfolio(attempt).missing]
    assert missing == ["We are still checking “lesson.mp4”. Try again in a minute."]
