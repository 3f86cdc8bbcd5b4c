"""The upload page in Chromium: real Uppy, real files, the local-disk multipart protocol, axe
on every state (idle, uploading, failed, done)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import Page, Route, expect

from microcred.earning.models import Upload, UploadPart
from microcred.earning.uploads import services
from microcred.earning.uploads.backends import default_backend
from microcred.earning.views_uploads import LIBRARY_POLICY
from tests.earning.uploading import MiB, padded_mp4

from .harness import sign_in

PART = 16 * MiB  # the part size uploader.js picks for files of this size


@pytest.fixture
def teacher(make_user):
    return make_user(email="inez@example.org")


@pytest.fixture(autouse=True)
def _one_part_at_a_time(settings):
    # The live server shares the test's in-memory SQLite connection between its threads, which
    # breaks under concurrent requests; real deployments send parts in parallel (see the
    # bench). The media task runs in-process once the live server commits.
    settings.UPLOAD_PARALLEL_PARTS = 1
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def upload_page(page: Page, teacher) -> Page:
    sign_in(page, teacher.email, "pw-for-tests-1")
    page.goto("/uploads/")
    expect(page.get_by_label("Choose a file to upload")).to_be_enabled()
    return page


def file_on_disk(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_video_uploads_in_parts_with_progress_and_appears_in_the_list(
    upload_page: Page, tmp_path: Path
):
    page = upload_page
    data = padded_mp4(PART + 3 * MiB)
    puts: list[str] = []
    signs: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    page.on("request", lambda r: signs.append(r.url) if "/sign/" in r.url else None)
    page.get_by_label("Choose a file to upload").set_input_files(
        file_on_disk(tmp_path, "lesson.mp4", data)
    )
    expect(page.get_by_role("status")).to_contain_text("Uploaded “lesson.mp4”", timeout=30_000)
    # Both parts were signed in one request, before the first was sent.
    assert [url.split("/api/")[1].split("/", 1)[1] for url in signs] == ["parts/sign/?parts=1-2"]
    page.axe.run()
    row = page.get_by_role("row", name="lesson.mp4")
    expect(row).to_contain_text("Uploaded")
    expect(row).to_contain_text("1 s")
    expect(row.get_by_role("img", name="A frame from lesson.mp4")).to_be_visible()
    assert len(puts) == 2
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.axe.run()
    upload = Upload.objects.get(filename="lesson.mp4")
    with default_storage.open(upload.key) as stored:
        assert stored.read() == data


def test_a_small_file_goes_in_one_part(upload_page: Page, tmp_path: Path):
    upload_page.get_by_label("Choose a file to upload").set_input_files(
        file_on_disk(tmp_path, "clip.mp4", padded_mp4(200_000))
    )
    expect(upload_page.get_by_role("status")).to_contain_text("Uploaded “clip.mp4”")
    assert Upload.objects.get(filename="clip.mp4").status == Upload.Status.COMPLETE


def test_a_renamed_text_file_is_refused_with_a_clear_message(upload_page: Page, tmp_path: Path):
    page = upload_page
    notes = file_on_disk(tmp_path, "lesson.mp4", b"my notes about the lesson\n" * 500)
    page.get_by_label("Choose a file to upload").set_input_files(notes)
    expect(page.get_by_role("alert")).to_contain_text(
        "the content of “lesson.mp4” is plain text, whatever its name says"
    )
    page.axe.run()
    expect(page.get_by_role("row", name="lesson.mp4")).to_contain_text("Rejected")


def test_a_dropped_part_is_retried_and_only_missing_parts_are_sent(
    upload_page: Page, tmp_path: Path
):
    page = upload_page
    data = padded_mp4(2 * PART + MiB)
    held: list[Route] = []
    page.route("**/parts/2\\?*", lambda route: held.append(route))  # hangs until we cut it
    page.get_by_label("Choose a file to upload").set_input_files(
        file_on_disk(tmp_path, "long.mp4", data)
    )
    for _ in range(200):  # part 1 arrives, then part 2 is stuck
        if held:
            break
        page.wait_for_timeout(100)
    assert list(UploadPart.objects.values_list("number", flat=True)) == [1]
    alert = page.get_by_role("alert")
    for _ in range(200):  # the connection drops, and again on each of Uppy's own retries
        while held:
            held.pop().abort("connectionreset")
        if alert.text_content():
            break
        page.wait_for_timeout(100)
    expect(alert).to_contain_text("connection")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    page.axe.run()

    page.unroute("**/parts/2\\?*")
    retried: list[str] = []
    page.on("request", lambda r: retried.append(r.url) if r.method == "PUT" else None)
    retry.click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded “long.mp4”", timeout=30_000)
    assert [url.split("/parts/")[1][0] for url in retried] == ["2", "3"]  # not part 1
    upload = Upload.objects.get(filename="long.mp4")
    with default_storage.open(upload.key) as stored:
        assert stored.read() == data


def test_choosing_the_same_file_again_continues_an_earlier_upload(
    page: Page, teacher, tmp_path: Path
):
    data = padded_mp4(2 * PART + MiB)
    earlier = services.create_upload(
        teacher,
        LIBRARY_POLICY,
        filename="lesson.mov",
        declared_type="video/quicktime",
        size=len(data),
        part_size=PART,
    )
    default_backend().write_part(earlier, 1, io.BytesIO(data[:PART]), PART)

    sign_in(page, teacher.email, "pw-for-tests-1")
    page.goto("/uploads/")
    expect(page.get_by_text("You have unfinished uploads.")).to_be_visible()
    expect(page.get_by_text("“lesson.mov”: 48% uploaded")).to_be_visible()
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    page.get_by_label("Choose a file to upload").set_input_files(
        file_on_disk(tmp_path, "lesson.mov", data)
    )
    expect(page.get_by_role("status")).to_contain_text("Uploaded “lesson.mov”", timeout=30_000)
    assert sorted(u.split("/parts/")[1][0] for u in puts) == ["2", "3"]
    earlier.refresh_from_db()
    assert earlier.status == Upload.Status.COMPLETE
    with default_storage.open(earlier.key) as stored:
        assert stored.read() == data


def test_cancel_discards_the_upload_and_works_from_the_keyboard(upload_page: Page, tmp_path):
    page = upload_page
    page.route("**/parts/2\\?*", lambda route: None)  # part 2 hangs, as on a slow link
    page.get_by_label("Choose a file to upload").set_input_files(
        file_on_disk(tmp_path, "big.mp4", padded_mp4(2 * PART + MiB))
    )
    cancel = page.get_by_role("button", name="Cancel upload")
    expect(cancel).to_be_visible()
    expect(page.get_by_role("progressbar")).to_be_visible()
    page.axe.run()
    page.once("dialog", lambda dialog: dialog.accept())
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Cancelled the upload of “big.mp4”.")
    expect(page.get_by_label("Choose a file to upload")).to_be_focused()
    upload = Upload.objects.get(filename="big.mp4")
    page.wait_for_timeout(300)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.ABORTED
