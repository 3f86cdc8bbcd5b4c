"""Inez, once she has earned a micro-credential, publishes the text of her evidence and adds
her own DID for future credentials; a visitor reads the published page. axe on every page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from microcred.credentials.keys import did_key_for, generate_key

from .earned import *  # noqa: F403
from .harness import sign_in, sign_out
from .helpers import expect_message


def test_inez_publishes_her_evidence_text_and_adds_her_did(page: Page, award):
    inez, attempt = award.earner, award.attempt
    sign_in(page, inez.email, "pw-for-tests-1")

    page.goto(f"/earn/{attempt.uuid}/")
    section = page.get_by_role("region", name="Public evidence page")
    expect(section).to_contain_text("Your videos and files are never shown")
    section.get_by_role("link", name="Preview the page").click()
    expect(page.get_by_text("Only you and your team see this page")).to_be_visible()
    public_url = page.url
    page.go_back()
    section.get_by_role("button", name="Publish my evidence page").click()
    expect_message(page, "Your evidence page is public")

    page.goto("/credentials/mine/")
    page.get_by_role("link", name="Add your own DID").click()
    did_box = page.get_by_role("textbox", name="Your DID")
    did_box.fill("did:example:123")
    page.get_by_role("button", name="Save my DID").click()
    # The error summary names the field and leads to it.
    expect(page.get_by_role("link", name="Your DID: Enter a DID that starts with")).to_be_visible()
    did = did_key_for(generate_key())
    page.get_by_role("textbox", name="Your DID").fill(did)
    page.get_by_role("button", name="Save my DID").click()
    expect_message(page, "Credentials issued from now on name this DID")
    inez.refresh_from_db()
    assert inez.did == did
    sign_out(page)

    page.goto(public_url)  # a visitor, signed out
    expect(page.get_by_role("heading", level=1)).to_contain_text(attempt.version.title)
    expect(page.get_by_role("main")).not_to_contain_text("Only you and your team")
