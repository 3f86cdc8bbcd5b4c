"""The attempt page stays light (issue 8, finding 17): Uppy, most of what an upload needs, is
fetched only when the person starts an upload, and the page as loaded stays under 150 KB
compressed. bench/page_weight.py prints the same figures for the demo."""

from __future__ import annotations

import gzip
from pathlib import Path

from playwright.sync_api import Page, Response, expect

from microcred.earning import services
from tests.earning.portfolio_helpers import video_bytes, world_fixture  # noqa: F401

from .harness import sign_in

GOAL_BYTES = 150 * 1024


def gzip_size(page: Page, url: str) -> int:
    # Fetched again rather than read from the response: Chromium may already have dropped the
    # body of a response the page loaded ("No resource with given identifier").
    return len(gzip.compress(page.request.get(url).body(), compresslevel=9))


def test_uppy_loads_only_when_an_upload_starts(
    page: Page, seeded_db, world, tmp_path: Path
) -> None:
    attempt, _ = services.start_attempt(world.version, user=world.earner)
    sign_in(page, world.earner.email, "pw-for-tests-1")
    loaded: list[Response] = []

    def keep(response: Response) -> None:
        loaded.append(response)

    page.on("response", keep)
    page.goto(f"/earn/{attempt.uuid}/")
    page.wait_for_load_state("networkidle")
    chooser = page.get_by_label("Add a file to “Part 2. Classroom video”")
    expect(chooser).to_be_enabled()

    urls = [response.url for response in loaded]
    assert not any("uppy" in url for url in urls), urls
    weight = sum(gzip_size(page, response.url) for response in loaded if response.ok)
    assert weight < GOAL_BYTES, f"the page loads {weight:,} bytes compressed: {urls}"

    # Choosing a file fetches Uppy, and the resumable multipart upload goes through as before.
    loaded.clear()
    clip = tmp_path / "lesson.mp4"
    clip.write_bytes(video_bytes(2))
    chooser.set_input_files(clip)
    expect(page.get_by_role("heading", name="lesson.mp4")).to_be_visible(timeout=30_000)
    assert any(response.url.endswith("/uppy.min.mjs") for response in loaded)
