"""The earning pages over HTTP: each with someone who may use it and someone who may not."""

from __future__ import annotations

import pytest

from microcred.catalog import services as catalog_services
from microcred.earning import services
from microcred.earning.models import Annotation, Artifact, Attempt, EvidenceItem, Submission

from .portfolio_helpers import (
    ready_portfolio,
    signed_in,
    upload,
    video_bytes,
    world_fixture,  # noqa: F401 (the `world` fixture)
)

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------- starting
def test_the_catalog_page_offers_a_start_button_and_starting_is_idempotent(world):
    slug = world.version.micro_credential.slug
    client = signed_in(world.earner)
    assert f'action="/earn/start/{slug}/"' in _page(client.get(f"/catalog/mc/{slug}/"))
    first = client.post(f"/earn/start/{slug}/")
    attempt = Attempt.objects.get()
    assert first["Location"] == f"/earn/{attempt.uuid}/"
    second = client.post(f"/earn/start/{slug}/")
    assert second["Location"] == first["Location"]
    assert Attempt.objects.count() == 1


def test_starting_needs_a_signed_in_user(client, world):
    response = client.post(f"/earn/start/{world.version.micro_credential.slug}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Attempt.objects.exists()


def test_starting_a_superseded_version_gives_a_clear_message(world):
    catalog_services.retire_version(world.version, actor=world.catalog.reviewer, reason="Old")
    client = signed_in(world.earner)
    slug = world.version.micro_credential.slug
    response = client.post(f"/earn/start/{slug}/", follow=True)
    assert "no longer takes new attempts" in _page(response)
    assert not Attempt.objects.exists()


def test_preapproval_request_and_decision_pages(world):
    catalog_services.approve_for_use(
        world.version,
        recognizer=world.school.parent,
        actor=world.district_recognizer,
        use="license_renewal",
        requires_preapproval=True,
    )
    slug = world.version.micro_credential.slug
    earner = signed_in(world.earner)
    form = earner.post(f"/earn/start/{slug}/")
    assert form.status_code == 200
    assert "Ask for pre-approval" in _page(form)
    assert "errorlist" not in _page(form)
    empty = earner.post(f"/earn/start/{slug}/", {"use": "license_renewal", "rationale": " "})
    assert empty.status_code == 200 and "errorlist" in _page(empty)
    assert not Attempt.objects.exists()
    earner.post(f"/earn/start/{slug}/", {"use": "license_renewal", "rationale": "Renewal."})
    attempt = Attempt.objects.get()
    assert attempt.status == Attempt.Status.AWAITING_PREAPPROVAL
    assert "Waiting for pre-approval" in _page(earner.get(f"/earn/{attempt.uuid}/"))

    # The earner and a colleague see no requests and cannot decide.
    assert "Renewal." not in _page(signed_in(world.colleague).get("/earn/preapprovals/"))
    url = f"/earn/preapprovals/{attempt.preapproval.pk}/"
    prefix = f"p{attempt.preapproval.pk}"
    for outsider in (world.earner, world.colleague):
        response = signed_in(outsider).post(url, {f"{prefix}-decision": "approve"})
        assert response.status_code == 404
    principal = signed_in(world.principal)
    assert "Renewal." in _page(principal.get("/earn/preapprovals/"))
    assert "1 pre-approval request waiting" in _page(principal.get("/me/"))
    refused = principal.post(url, {f"{prefix}-decision": "decline", f"{prefix}-comment": ""})
    assert refused.status_code == 400 and "Say why you decline" in _page(refused)
    principal.post(url, {f"{prefix}-decision": "approve"})
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    again = principal.post(url, {f"{prefix}-decision": "decline", f"{prefix}-comment": "No"})
    assert again.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS


# ---------------------------------------------------------------------------- the portfolio
@pytest.fixture
def attempt(world):
    return services.start_attempt(world.version, user=world.earner)[0]


def test_the_portfolio_page_shows_parts_limits_and_checklist(world, attempt):
    page = _page(signed_in(world.earner).get(f"/earn/{attempt.uuid}/"))
    assert "Still missing" in page
    assert "Write your answer to “Part 1. Your plan”." in page
    assert "Up to 20 words." in page
    assert "Length: 2 s to 4 s." in page
    assert "At least 1 time-stamped note." in page
    assert "data-uploader" in page and 'accept="video/mp4,video/quicktime,video/webm"' in page
    assert "earning/portfolio.js" in page


def test_portfolio_pages_need_a_member(client, world, attempt):
    assert client.get(f"/earn/{attempt.uuid}/").status_code == 302
    for outsider in (world.colleague, world.other_school_earner, world.principal):
        assert signed_in(outsider).get(f"/earn/{attempt.uuid}/").status_code == 404


def test_saving_text_with_and_without_javascript(world, attempt):
    client = signed_in(world.earner)
    url = f"/earn/{attempt.uuid}/parts/{world.written.pk}/"
    field = f"part{world.written.pk}-text"
    assert client.post(url, {field: "A short plan."})["Location"].endswith(
        f"#part-{world.written.pk}"
    )
    too_long = "word " * 25
    response = client.post(url, {field: too_long})
    assert response.status_code == 400
    assert "has 25 words; the limit is 20" in _page(response)
    assert too_long.strip() in _page(response)  # what was typed is not lost
    autosave = client.post(
        url, {field: "Autosaved draft here."}, headers={"Accept": "application/json"}
    )
    assert autosave.json()["words"] == 3
    refused = client.post(url, {field: too_long}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "limit is 20" in refused.json()["error"]
    assert EvidenceItem.objects.get(attempt=attempt).text == "Autosaved draft here."


def test_attaching_checks_content_and_owner(world, attempt, django_capture_on_commit_callbacks):
    client = signed_in(world.earner)
    url = f"/earn/{attempt.uuid}/parts/{world.video.pk}/files/"
    json = {"Accept": "application/json"}
    fake, _ = upload(world.earner, b"hello\n" * 100, "clip.mp4", django_capture_on_commit_callbacks)
    refused = client.post(url, {"upload": fake.pk}, headers=json)
    assert refused.status_code == 400 and "whatever its name says" in refused.json()["error"]
    theirs, _ = upload(world.colleague, video_bytes(3), "b.mp4", django_capture_on_commit_callbacks)
    assert client.post(url, {"upload": theirs.pk}, headers=json).status_code == 400
    assert not Artifact.objects.exists()
    mine, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    page = _page(client.get(f"/earn/{attempt.uuid}/"))
    assert "Or add a file you already uploaded" in page and "a.mp4" in page
    assert client.post(url, {"upload": mine.pk}).status_code == 302
    artifact = Artifact.objects.get()
    page = _page(client.get(f"/earn/{attempt.uuid}/"))
    assert "<video" in page and "3 s long" in page
    # A stranger cannot remove it; the earner can.
    remove = f"/earn/{attempt.uuid}/files/{artifact.pk}/remove/"
    assert signed_in(world.colleague).post(remove).status_code == 404
    assert client.post(remove).status_code == 302
    assert not Artifact.objects.exists()


def test_notes_add_edit_delete(world, attempt, django_capture_on_commit_callbacks):
    client = signed_in(world.earner)
    clip, _ = upload(world.earner, video_bytes(3), "a.mp4", django_capture_on_commit_callbacks)
    artifact = services.attach_upload(attempt, world.video, user=world.earner, upload=clip)
    component = world.version.rubric.components.first()
    url = f"/earn/{attempt.uuid}/files/{artifact.pk}/notes/"
    p = f"note{artifact.pk}"
    bad = client.post(url, {f"{p}-time": "soon", f"{p}-note": "x"})
    assert bad.status_code == 400 and "minutes:seconds" in _page(bad)
    too_late = client.post(url, {f"{p}-time": "1:00", f"{p}-note": "x"})
    assert too_late.status_code == 400 and "only 3 s long" in _page(too_late)
    assert not Annotation.objects.exists()
    ok = client.post(
        url, {f"{p}-time": "0:02", f"{p}-component": component.pk, f"{p}-note": "Wait time"}
    )
    assert ok.status_code == 302
    note = Annotation.objects.get()
    assert (note.seconds, note.rubric_component) == (2, component)
    assert 'data-seek="2"' in _page(client.get(f"/earn/{attempt.uuid}/"))

    edit = f"/earn/{attempt.uuid}/notes/{note.pk}/"
    assert signed_in(world.colleague).get(edit).status_code == 404
    assert client.get(edit).status_code == 200
    client.post(edit, {"time": "0:01", "component": "", "note": "Earlier"})
    note.refresh_from_db()
    assert (note.seconds, note.note, note.rubric_component) == (1, "Earlier", None)
    delete = f"/earn/{attempt.uuid}/notes/{note.pk}/delete/"
    assert signed_in(world.other_school_earner).post(delete).status_code == 404
    client.post(delete)
    assert not Annotation.objects.exists()


# ---------------------------------------------------------------------------- submit, withdraw
def test_submit_page_lists_what_is_missing(world, attempt):
    response = signed_in(world.earner).post(f"/earn/{attempt.uuid}/submit/")
    assert response.status_code == 400
    assert "Nothing was submitted." in _page(response)
    assert "Upload a file for “Part 2. Classroom video”." in _page(response)
    assert not Submission.objects.exists()


def test_double_clicked_submit_and_withdraw(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    client = signed_in(world.earner)
    assert signed_in(world.colleague).post(f"/earn/{attempt.uuid}/submit/").status_code == 404
    assert client.post(f"/earn/{attempt.uuid}/submit/").status_code == 302
    second = client.post(f"/earn/{attempt.uuid}/submit/")
    assert second.status_code == 400 and "already submitted" in _page(second)
    assert Submission.objects.count() == 1
    page = _page(client.get(f"/earn/{attempt.uuid}/"))
    assert "Waiting for an assessor" in page and "Withdraw" in page

    withdraw = f"/earn/{attempt.uuid}/submissions/1/withdraw/"
    assert signed_in(world.colleague).post(withdraw).status_code == 404
    assert Submission.objects.get().status == Submission.Status.AWAITING_ASSESSOR
    client.post(withdraw)
    assert Submission.objects.get().status == Submission.Status.WITHDRAWN
    assert client.post(f"/earn/{attempt.uuid}/submit/").status_code == 302
    assert list(Submission.objects.values_list("number", flat=True)) == [1, 2]


def test_history_shows_decisions(world, django_capture_on_commit_callbacks):
    attempt = ready_portfolio(world, django_capture_on_commit_callbacks)
    first = services.submit(attempt, user=world.earner)
    services.apply_decision(first, "not_yet")
    page = _page(signed_in(world.earner).get(f"/earn/{attempt.uuid}/"))
    assert "Not yet: revise and resubmit" in page
    assert "Decided" in page
    dashboard = _page(signed_in(world.earner).get("/me/"))
    assert "Read the feedback, revise your evidence and resubmit." in dashboard
