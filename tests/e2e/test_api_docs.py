"""The API's documentation page as a developer uses it: open an operation, try it, read the
answer, open the Authorize dialog. Swagger UI draws all of it, and axe and the site's
Content-Security-Policy check each state (api/static/api/docs.css and docs-a11y.js mend what
Swagger UI's own markup lacks)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_a_developer_tries_an_operation_in_the_api_docs(page: Page) -> None:
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("microcred API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/catalog/micro-credentials").first).to_be_visible()

    page.locator(".opblock-get .opblock-summary-control").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    expect(page.get_by_text("Server response").first).to_be_visible()
    page.axe.run()  # type: ignore[attr-defined]

    page.locator(".opblock-post .opblock-summary-control").first.click()
    page.get_by_role("button", name="Try it out").last.click()
    expect(page.get_by_label("Request body (JSON)").first).to_be_visible()
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_role("button", name="Close").first).to_be_visible()
    page.axe.run()  # type: ignore[attr-defined]
