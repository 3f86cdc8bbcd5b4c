"""The portfolio in Chromium: start from the catalog, live word count and autosave, a real
video through the uploader attached to its part, a note taking the player's time, submit; axe
on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from microcred.earning.models import Annotation, Attempt, EvidenceItem, Submission
from tests.catalog.factories import catalog_people
from tests.earning.portfolio_helpers import small_content, video_bytes

from .harness import sign_in, sign_out
from .helpers import start_micro_credential


@pytest.fixture
def inez(make_user, org_tree):
    return make_user("earner", org_tree["school1"], email="inez@example.org")


@pytest.fixture
def version(seeded_db, org_tree, make_user):
    return catalog_people(org_tree, make_user).publish(small_content())


def test_inez_starts_writes_uploads_annotates_and_submits(
    page: Page, inez, version, tmp_path: Path
):
    sign_in(page, inez.email, "pw-for-tests-1")
    start_micro_credential(page, version.micro_credential.slug, version.title)
    attempt = Attempt.objects.get()

    plan = page.get_by_label("Your answer").first
    plan.fill("We ask open questions.")
    expect(page.get_by_text("4 words of 20.")).to_be_visible()
    plan.blur()
    expect(page.get_by_text("Draft saved at")).to_be_visible()
    assert EvidenceItem.objects.get(requirement__kind="written").text == "We ask open questions."
    plan.fill("word " * 22)
    expect(page.get_by_text("2 words over the limit")).to_be_visible()
    plan.fill("We ask open questions.")
    plan.blur()

    clip = tmp_path / "lesson.mp4"
    clip.write_bytes(video_bytes(3))
    chooser = page.get_by_label("Add a file to “Part 2. Classroom video”")
    expect(chooser).to_be_enabled()
    chooser.set_input_files(clip)
    expect(page.get_by_role("heading", name="lesson.mp4")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 s long")).to_be_visible()

    note_form = page.locator("form[data-note-form]")
    note_form.get_by_role("button", name="Use the video's current time").click()
    expect(note_form.get_by_label("Time in the video (minutes:seconds)")).to_have_value("0:00")
    note_form.get_by_label("Time in the video (minutes:seconds)").fill("0:02")
    note_form.get_by_label("What happens here").fill("Students explain their thinking.")
    note_form.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("button", name="Play from 0:02")).to_be_visible()
    assert Annotation.objects.get().seconds == 2

    reflection = page.locator(f"#part-{version.evidence_requirements.get(kind='reflection').pk}")
    reflection.get_by_label("Your answer").fill("Wait time matters.")
    reflection.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Ready to submit")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Submit my portfolio").click()
    expect(page.get_by_text("Submission 1 sent")).to_be_visible()
    assert Submission.objects.get().attempt == attempt
    page.goto("/me/")
    expect(page.get_by_role("row", name=version.title)).to_contain_text("Submitted")


def test_a_principal_approves_a_request_and_a_colleague_joins_the_team(
    page: Page, inez, version, make_user, org_tree
):
    from microcred.catalog import services as catalog_services
    from microcred.earning import services

    district = make_user("recognizer_admin", org_tree["lea1"])
    catalog_services.approve_for_use(
        version,
        recognizer=org_tree["lea1"],
        actor=district,
        use="license_renewal",
        requires_preapproval=True,
    )
    principal = make_user("principal", org_tree["school1"], email="pat@example.org")
    michelle = make_user("earner", org_tree["school1"], email="michelle@example.org")

    sign_in(page, inez.email, "pw-for-tests-1")
    page.goto(f"/catalog/mc/{version.micro_credential.slug}/")
    page.get_by_role("button", name="Start this micro-credential").click()
    page.get_by_label("What should it count for?").select_option("license_renewal")
    page.get_by_label("Why do you want to earn it?").fill("It counts toward my renewal.")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text("Waiting for pre-approval.", exact=True)).to_be_visible()
    sign_out(page)

    sign_in(page, principal.email, "pw-for-tests-1")
    page.get_by_role("link", name="Review pre-approval requests").click()
    request = page.get_by_role("region", name=f"{inez}: {version.title}")
    expect(request).to_contain_text("It counts toward my renewal.")
    request.get_by_label("Approve").check()
    request.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_text("No requests are waiting for you.")).to_be_visible()
    sign_out(page)

    sign_in(page, inez.email, "pw-for-tests-1")
    page.get_by_role("link", name=version.title).click()
    page.get_by_label("Team name").fill("Grade 4 PLC")
    page.get_by_role("button", name="Create the team").click()
    page.get_by_label("Colleague to invite").select_option(str(michelle.pk))
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("is invited")).to_be_visible()
    sign_out(page)

    sign_in(page, michelle.email, "pw-for-tests-1")
    page.get_by_role("button", name="Join the team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(version.title)
    attempt = Attempt.objects.get()
    assert services.selectors.attempt_members(attempt) == [inez, michelle]
