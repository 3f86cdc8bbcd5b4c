"""Inez takes her credential elsewhere: from its page she opens the printable certificate,
downloads the baked badge, and a visitor checks it on the verifier by uploading that image.
axe on every page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from microcred.credentials import services

from .earned import *  # noqa: F403
from .harness import sign_in, sign_out


def test_inez_prints_her_certificate_and_a_visitor_verifies_her_badge_image(
    page: Page, award, tmp_path: Path
):
    credential = services.issue_for_award(award)
    sign_in(page, award.earner.email, "pw-for-tests-1")
    page.goto("/credentials/mine/")
    page.get_by_role("link", name=credential.document["name"]).click()
    share = page.locator("main")
    expect(share.get_by_role("link", name="Add it to your LinkedIn profile")).to_be_visible()

    share.get_by_role("link", name="Printable certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(credential.document["name"])
    expect(page.get_by_role("img", name="QR code leading to")).to_be_visible()
    expect(page.get_by_role("button", name="Print the certificate")).to_be_visible()
    page.go_back()

    with page.expect_download() as download:
        share.get_by_role("link", name="PNG", exact=True).click()
    badge = tmp_path / "badge.png"
    download.value.save_as(badge)
    sign_out(page)

    page.goto("/verify/")
    page.get_by_label("Or upload a credential file").set_input_files(badge)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("main")).to_contain_text("Verified")
