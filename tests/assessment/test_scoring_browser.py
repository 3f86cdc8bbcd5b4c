"""The scoring page in a real browser, audited by axe: the rubric adds up as details are
checked, shows the band live, notes filter by component, minutes fill in, the score is sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment.models import Assignment, Score
from tests.assessment.helpers import component_ids
from tests.e2e.harness import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scoring_url(seeded_db, make_assessor, make_submission) -> tuple[str, str]:
    profile = make_assessor()
    # Outside a test transaction, submitting commits and assigns at once (on_commit).
    assignment = Assignment.objects.get(submission=make_submission())
    return f"/assess/assignments/{assignment.pk}/", profile.user.email


def test_rubric_adds_up_and_shows_the_band(page: Page, scoring_url, version):
    url, email = scoring_url
    sign_in(page, email, "pw-for-tests-1")
    page.goto(url)

    total = page.locator("[data-total]")
    expect(total).to_have_text("Total: 0 of 20 points. Band: Not Yet (not passing).")
    expect(page.get_by_label("Minutes spent scoring")).to_have_value("1")

    components = component_ids(version)
    for i, component in enumerate(components):
        fieldset = page.get_by_role("group", name=component.title)
        boxes = fieldset.get_by_role("checkbox")
        for n in range(4 if i < 3 else 3):  # 4 + 4 + 4 + 3 = 15
            boxes.nth(n).check()
        fieldset.get_by_label(f"Feedback on “{component.title}”").fill("Specific feedback.")
    expect(total).to_have_text("Total: 15 of 20 points. Band: Almost (not passing).")
    page.get_by_role("group", name=components[3].title).get_by_role("checkbox").nth(3).check()
    expect(total).to_have_text("Total: 16 of 20 points. Band: Yes (passing).")

    notes = page.locator(".mark-list li")
    expect(notes).to_have_count(2)
    page.get_by_label("Show the earner's notes for").select_option(str(components[1].pk))
    expect(notes.filter(has_text="Feedback with data")).to_be_visible()
    expect(notes.filter(has_text="Outcome-based talk")).to_be_hidden()

    page.get_by_label("Overall feedback for the earner").fill("Well evidenced throughout.")
    page.get_by_role("button", name="Send the score").click()
    expect(page.get_by_text("Score sent: 16 points, Yes.")).to_be_visible()
    assert Score.objects.get().total_points == 16


def test_a_note_plays_the_video_from_its_time(page: Page, scoring_url, tmp_path):
    from django.core.files.storage import default_storage

    from microcred.earning.models import Annotation, Upload
    from tests.earning.uploading import write_video

    url, email = scoring_url
    upload = Upload.objects.get()
    video = tmp_path / "clip.mp4"
    write_video(video, seconds=8)
    with video.open("rb") as handle:
        # Assessors play the copy without metadata, never the original (invariant 2).
        assert default_storage.save(upload.blind_key, handle) == upload.blind_key
    artifact = upload.artifact
    Annotation.objects.create(artifact=artifact, seconds=5, note="Early moment")
    # The snapshot froze the first two notes; the third is not part of this submission.
    sign_in(page, email, "pw-for-tests-1")
    page.goto(url)
    expect(page.locator(".mark-list li")).to_have_count(2)

    player = page.locator("video")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert player.evaluate("v => v.duration") > 7
    page.get_by_role("button", name="Play from 3:15").click()
    # 3:15 lies beyond this short clip: the player jumps as far as it can, to the end, at
    # once (playing from the start could not get past six seconds within the two allowed).
    page.wait_for_function("() => document.querySelector('video').currentTime > 6", timeout=2000)
