"""The API token page in Chromium, axe on every page: from the footer, make a token, copy it
once, call the API with it, revoke it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from microcred.orgs.models import ApiToken

from .helpers import Account, sign_in_as


def test_a_teacher_makes_uses_and_revokes_a_token(page: Page, make_user, live_server):
    teacher = make_user(email="inez@example.org")
    sign_in_as(page, Account(teacher.email, "pw-for-tests-1"))
    page.get_by_role("contentinfo").get_by_role("link", name="My API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My API tokens")

    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_role("alert")).to_contain_text("Token name: This field is required.")
    page.get_by_label("Token name").fill("grading script")
    page.get_by_role("button", name="Make the token").click()
    secret = page.get_by_role("textbox", name="Your new token").input_value()
    assert ApiToken.objects.get().user == teacher

    script = page.context.browser.new_context(base_url=live_server.url)  # no session cookie
    api = script.request
    assert api.get("/api/v1/assessment/assignments").status == 401
    listed = api.get(
        "/api/v1/assessment/assignments", headers={"Authorization": f"Bearer {secret}"}
    )
    assert listed.status == 200

    page.goto("/manage/tokens/")  # coming back, the token is never shown again
    expect(page.get_by_role("textbox", name="Your new token")).to_have_count(0)
    assert secret not in page.content()
    row = page.get_by_role("row", name="grading script")
    expect(row).to_contain_text("Active.")
    row.get_by_role("button", name="Revoke “grading script”").click()
    expect(page.locator("main .messages")).to_contain_text("Revoked “grading script”")
    expect(page.get_by_role("row", name="grading script")).to_contain_text("Revoked")
    gone = api.get(
        "/api/v1/earning/attempts/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert gone.status == 401
    script.close()
