"""Earning services: starting (pinned, one open attempt, pre-approval), the portfolio's checks
(words, file types by content, video length, notes), submit, withdraw, decisions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from microcred.catalog import services as catalog_services
from microcred.catalog.models import MicroCredentialVersion
from microcred.earning import selectors, services
from microcred.earning.models import (
    Annotation,
    Artifact,
    Attempt,
    EvidenceItem,
    PreApproval,
    Submission,
    Upload,
)
from microcred.notifications.models import Notification

from ..catalog.factories import publish_next_version
from .portfolio_helpers import (
    ready_portfolio,
    upload,
    video_bytes,
    world_fixture,  # noqa: F401 (the `world` fixture)
)

pytestmark = pytest.mark.django_db


def test_word_count_is_one_rule():
    assert selectors.word_count("") == 0
    assert selectors.word_count("  don't  stop\n3:15 -- now ") == 5


# ---------------------------------------------------------------------------- starting
def test_an_attempt_stays_pinned_when_a_new_version_is_published(world):
    attempt, created = services.start_attempt(world.version, user=world.earner)
    assert created and attempt.status == Attempt.Status.IN_PROGRESS
    assert attempt.school == world.school
    services.save_text(attempt, world.written, user=world.earner, text="A plan.")

    people = world.catalog
    newer = publish_next_version(
        world.version.micro_credential, people.author, people.reviewer, title="Questioning v2"
    )
    attempt.refresh_from_db()
    assert attempt.version_id == world.version.pk != newer.pk
    assert selectors.portfolio(attempt).items[0].requirement.version_id == world.version.pk
    # The old version takes no new attempts, from anyone.
    with pytest.raises(ValidationError, match="no longer takes new attempts"):
        services.start_attempt(world.version, user=world.colleague)
    # And the model refuses to re-pin.
    attempt.version = newer
    with pytest.raises(PermissionError):
        attempt.save()


def test_a_retired_version_refuses_new_attempts(world):
    catalog_services.retire_version(world.version, actor=world.catalog.reviewer, reason="Old.")
    with pytest.raises(ValidationError):
        services.start_attempt(world.version, user=world.earner)
    assert not Attempt.objects.exists()


def test_one_open_attempt_per_earner_per_micro_credential(world):
    first, created = services.start_attempt(world.version, user=world.earner)
    again, created_again = services.start_attempt(world.version, user=world.earner)
    assert created and not created_again and again == first
    assert Attempt.objects.count() == 1


def _require_preapproval(world):
    # Pine County (the earner's LEA) asks for pre-approval for license renewal.
    return catalog_services.approve_for_use(
        world.version,
        recognizer=world.school.parent,
        actor=world.district_recognizer,
        use="license_renewal",
        requires_preapproval=True,
    )


def test_preapproval_needs_a_use_and_a_rationale_and_then_waits(world):
    _require_preapproval(world)
    with pytest.raises(ValidationError) as error:
        services.start_attempt(world.version, user=world.earner)
    assert set(error.value.message_dict) == {"use", "rationale"}
    assert not Attempt.objects.exists()

    attempt, _ = services.start_attempt(
        world.version, user=world.earner, use="license_renewal", rationale="For my renewal."
    )
    assert attempt.status == Attempt.Status.AWAITING_PREAPPROVAL
    # Waiting attempts cannot be worked on yet.
    with pytest.raises(ValidationError, match="cannot change now"):
        services.save_text(attempt, world.written, user=world.earner, text="Early.")


def test_preapproval_decided_by_principal_or_district_and_both_sides_notified(
    world, django_capture_on_commit_callbacks
):
    _require_preapproval(world)
    with django_capture_on_commit_callbacks(execute=True):
        attempt, _ = services.start_attempt(
            world.version, user=world.earner, use="license_renewal", rationale="Renewal."
        )
    asked = set(Notification.objects.filter(kind="preapproval").values_list("user", flat=True))
    assert asked == {world.principal.pk, world.district_recognizer.pk}
    request = attempt.preapproval
    assert selectors.pending_preapprovals(world.principal) == [request]
    assert selectors.pending_preapprovals(world.district_recognizer) == [request]
    # Neither the earner, a colleague nor another school's earner may decide.
    for outsider in (world.earner, world.colleague, world.other_school_earner):
        assert selectors.pending_preapprovals(outsider) == []
        with pytest.raises(PermissionDenied):
            services.decide_preapproval(request, user=outsider, approve=True)
    with pytest.raises(ValidationError, match="why you decline"):
        services.decide_preapproval(request, user=world.principal, approve=False)

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_preapproval(request, user=world.principal, approve=True, comment="Go!")
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    assert Notification.objects.filter(user=world.earner, kind="preapproval").exists()
    with pytest.raises(ValidationError, match="already approved"):
        services.decide_preapproval(request, user=world.district_recognizer, approve=False)


def test_a_declined_preapproval_closes_the_attempt(world):
    _require_preapproval(world)
    attempt, _ = services.start_attempt(
        world.version, user=world.earner, use="license_renewal", rationale="Renewal."
    )
    services.decide_preapproval(
        attempt.preapproval, user=world.district_recognizer, approve=False, comment="Not now."
    )
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.PREAPPROVAL_DECLINED
    assert attempt.preapproval.status == PreApproval.Status.DECLINED


# ---------------------------------------------------------------------------- the portfolio
def test_word_limit_on_save_changes_nothing(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    services.save_text(attempt, world.written, user=world.earner, text="Short plan.")
    with pytest.raises(ValidationError) as error:
        services.save_text(attempt, world.written, user=world.earner, text="word " * 21)
    assert "21 words; the limit is 20" in str(error.value)
    assert EvidenceItem.objects.get(attempt=attempt).text == "Short plan."


def test_text_only_for_written_parts_of_this_version(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    with pytest.raises(ValidationError, match="takes files"):
        services.save_text(attempt, world.video, user=world.earner, text="Hi")
    other = world.catalog.publish(title="Another")
    with pytest.raises(ValidationError, match="another micro-credential"):
        services.save_text(
            attempt, other.evidence_requirements.first(), user=world.earner, text="Hi"
        )


def test_a_text_file_renamed_to_mp4_is_refused(world, django_capture_on_commit_callbacks):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    fake, _ = upload(
        world.earner, b"not a video at all\n" * 50, "lesson.mp4", django_capture_on_commit_callbacks
    )
    assert fake.content_type == "text/plain"
    with pytest.raises(ValidationError, match="whatever its name says"):
        services.attach_upload(attempt, world.video, user=world.earner, upload=fake)
    assert not EvidenceItem.objects.filter(artifacts__isnull=False).exists()


def test_only_own_finished_uploads_attach_and_max_files_holds(
    world, django_capture_on_commit_callbacks
):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    theirs, _ = upload(world.colleague, video_bytes(3), "b.mp4", django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        services.attach_upload(attempt, world.video, user=world.earner, upload=theirs)
    first = services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    assert services.attach_upload(attempt, world.video, user=world.earner, upload=clip) == first
    second, _ = upload(world.earner, video_bytes(3), "c.mp4", django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="at most 1 file"):
        services.attach_upload(attempt, world.video, user=world.earner, upload=second)


@pytest.mark.parametrize(("seconds", "words"), [(1, "1 s long"), (6, "6 s long")])
def test_a_video_of_the_wrong_length_is_flagged_and_blocks_submit(
    world, django_capture_on_commit_callbacks, seconds, words
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks, seconds=seconds)
    missing = [problem for _, problem in selectors.portfolio(attempt).missing]
    assert any(words in m and "2 s to 4 s" in m for m in missing), missing
    with pytest.raises(ValidationError, match=words):
        services.submit(attempt, user=world.earner)
    assert not Submission.objects.exists()


def test_annotations_sorted_checked_and_required(world, django_capture_on_commit_callbacks):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    artifact = services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    item = selectors.portfolio(attempt).items[1]
    assert any("time-stamped note" in p for p in item.problems)

    component = world.version.rubric.components.first()
    services.add_annotation(
        artifact, user=world.earner, seconds=2, component_id=component.pk, note="Later"
    )
    services.add_annotation(artifact, user=world.earner, seconds=0, component_id=None, note="Start")
    assert [a.note for a in Annotation.objects.filter(artifact=artifact)] == ["Start", "Later"]
    with pytest.raises(ValidationError) as error:
        services.add_annotation(artifact, user=world.earner, seconds=60, component_id=9999, note="")
    assert set(error.value.message_dict) == {"seconds", "note"}
    other_component = world.catalog.publish(title="Other").rubric.components.first()
    with pytest.raises(ValidationError, match="component of this micro-credential"):
        services.add_annotation(
            artifact, user=world.earner, seconds=1, component_id=other_component.pk, note="x"
        )
    note = Annotation.objects.get(note="Later")
    services.update_annotation(note, user=world.earner, seconds=1, component_id=None, note="Now")
    services.delete_annotation(Annotation.objects.get(note="Start"), user=world.earner)
    assert list(Annotation.objects.values_list("seconds", "note")) == [(1, "Now")]
    assert selectors.portfolio(attempt).items[1].annotation_count == 1


# ---------------------------------------------------------------------------- submit
def test_submit_needs_a_complete_portfolio(world):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    with pytest.raises(ValidationError) as error:
        services.submit(attempt, user=world.earner)
    assert "Write your answer to “Part 1. Your plan”." in error.value.messages
    assert "Upload a file for “Part 2. Classroom video”." in error.value.messages
    assert not Submission.objects.exists()


def test_word_limit_is_checked_again_on_submit(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    # Text that got in over the limit some other way (an older limit, the admin): still refused.
    EvidenceItem.objects.filter(attempt=attempt, requirement=world.reflection).update(
        text="word " * 11
    )
    with pytest.raises(ValidationError, match="11 words; the limit is 10"):
        services.submit(attempt, user=world.earner)


def test_submit_freezes_a_snapshot_with_every_file_hash(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit(attempt, user=world.earner)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert submission.number == 1
    files = [a for part in submission.snapshot["items"] for a in part["artifacts"]]
    clip = attempt.evidence.get(requirement=world.video).artifacts.get().upload
    assert files == [
        {
            "upload": str(clip.pk),
            "filename": "lesson.mp4",
            "size": clip.size,
            "content_type": "video/mp4",
            "sha256": clip.sha256,
            "duration_seconds": clip.duration_seconds,
            "notes": [{"seconds": 1, "component": None, "note": "Open question here."}],
        }
    ]
    assert len(clip.sha256) == 64
    assert Notification.objects.filter(user=world.earner, kind="submission_received").exists()

    # Frozen: the portfolio cannot change, and the model refuses any change to the snapshot.
    with pytest.raises(ValidationError):
        services.save_text(attempt, world.written, user=world.earner, text="Changed")
    submission.snapshot["items"][0]["text"] = "Rewritten"
    with pytest.raises(PermissionError):
        submission.save()
    submission.refresh_from_db()
    assert submission.snapshot["items"][0]["text"] == "We ask open questions."
    evidence = selectors.submission_evidence(submission)
    assert evidence[1].artifacts[0].sha256 == clip.sha256
    assert evidence[1].artifacts[0].annotations[0].timestamp == "0:01"


def test_a_double_submit_makes_one_submission(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    services.submit(attempt, user=world.earner)
    with pytest.raises(ValidationError, match="already submitted"):
        services.submit(attempt, user=world.earner)
    assert Submission.objects.count() == 1


def test_withdraw_before_scoring_then_resubmit_numbers_on(
    world, django_capture_on_commit_callbacks
):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    first = services.submit(attempt, user=world.earner)
    with pytest.raises(PermissionDenied):
        services.withdraw(first, user=world.colleague)
    services.withdraw(first, user=world.earner)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    services.save_text(attempt, world.written, user=world.earner, text="A better plan.")
    second = services.submit(attempt, user=world.earner)
    assert second.number == 2
    first.refresh_from_db()
    assert first.status == Submission.Status.WITHDRAWN
    assert first.snapshot["items"][0]["text"] == "We ask open questions."
    assert second.snapshot["items"][0]["text"] == "A better plan."


def test_no_withdrawing_once_scoring_started(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    submission = services.submit(attempt, user=world.earner)
    services.mark_in_scoring(submission)
    with pytest.raises(ValidationError, match="can no longer be withdrawn"):
        services.withdraw(submission, user=world.earner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_SCORING


def test_not_yet_then_resubmit_then_earned(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    first = services.submit(attempt, user=world.earner)
    services.apply_decision(first, "not_yet")
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.NOT_YET
    services.save_text(attempt, world.reflection, user=world.earner, text="Revised thoughts.")
    second = services.submit(attempt, user=world.earner)
    services.apply_decision(second, "earned")
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EARNED
    assert [s.number for s in selectors.submissions_of(attempt)] == [2, 1]
    assert all(s.status == Submission.Status.DECIDED for s in selectors.submissions_of(attempt))
    # Earned: a new start is a new attempt (the old one stays as it was).
    newer, created = services.start_attempt(
        MicroCredentialVersion.objects.get(pk=world.version.pk), user=world.earner
    )
    assert created and newer != attempt


def test_someone_else_changes_nothing(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    for outsider in (world.colleague, world.other_school_earner, world.principal):
        with pytest.raises(PermissionDenied):
            services.save_text(attempt, world.written, user=outsider, text="Hijack")
        with pytest.raises(PermissionDenied):
            services.submit(attempt, user=outsider)
    assert attempt.evidence.get(requirement=world.written).text == "We ask open questions."
    assert not Submission.objects.exists()


def test_a_file_larger_than_the_part_allows_is_refused(world, django_capture_on_commit_callbacks):
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    clip, _ = upload(world.earner, video_bytes(3), "big.mp4", django_capture_on_commit_callbacks)
    # Uploaded elsewhere (the library takes files of up to 8 GB); this part takes 10 MB.
    Upload.objects.filter(pk=clip.pk).update(size=11 * 1024 * 1024)
    clip.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    assert error.value.messages == [
        "“big.mp4” is 11.0\xa0MB; “Part 2. Classroom video” takes files of at most 10.0\xa0MB."
    ]
    assert not Artifact.objects.exists()
