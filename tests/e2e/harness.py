"""Browser-test harness, loaded as a pytest plugin by tests/conftest.py.

Playwright drives Debian's chromium (or Playwright's own build where that is missing) against
Django's live server. axe-core audits every page a test loads; any WCAG 2.x
A/AA violation fails the test that visited the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_SCRIPT = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.e2e


def _chromium_path() -> str | None:
    for candidate in (
        os.environ.get("MICROCRED_CHROMIUM"),
        shutil.which("chromium"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own browser, installed by `make browser` where apt is missing


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class AxeAudit:
    """Runs axe-core after every page load and keeps what it finds."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.violations: list[str] = []
        self.audited: list[str] = []
        self.running = False
        if not AXE_SCRIPT.exists():
            raise RuntimeError(
                f"axe-core is missing at {AXE_SCRIPT}: run `npm ci` (make test does)."
            )

    def __call__(self, *_: Any) -> None:
        self.run()

    def run(self) -> None:
        page = self.page
        # Load handlers run in Playwright's event greenlets: one audit at a time (axe refuses
        # a second run on a page while one is going), and waiting on the page lets it end.
        while self.running and not page.is_closed():
            page.wait_for_timeout(25)
        if page.is_closed() or not page.url.startswith("http"):
            return
        self.running = True
        try:
            page.add_script_tag(path=str(AXE_SCRIPT))
            found = page.evaluate(
                """async (tags) => {
                    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                    return result.violations.map(v =>
                        `${v.id} (${v.impact}): ${v.help} -> ` +
                        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
                }""",
                AXE_TAGS,
            )
        finally:
            self.running = False
        self.audited.append(page.url)
        self.violations.extend(f"{page.url}: {v}" for v in found)


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    audit = AxeAudit(page)
    page.on("load", audit)
    page.axe = audit  # type: ignore[attr-defined]
    yield page
    # The page as the test left it, once more: a test that ends right after a navigation would
    # otherwise close the page under the audit its load started, and that page goes unchecked.
    audit.run()
    context.close()
    assert audit.audited, "axe audited no page"
    assert not audit.violations, "Accessibility violations:\n" + "\n".join(audit.violations)


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the real form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


@pytest.fixture
def seeded_db(transactional_db) -> None:
    """The rows the data migration seeds (grade bands, subjects, quality criteria), which the
    flush after every transactional test removes. Django's serialized rollback cannot bring
    them back here: while Playwright's sync API holds its event loop, Django's connection
    handler hands the test a different connection object from the one the snapshot was kept
    on. So the migration's own seeding (get_or_create, safe to repeat) runs again."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "microcred.catalog.migrations.0002_vocabularies_and_quality_criteria"
    )
    migration.seed(apps, None)


@pytest.fixture
def demo(seeded_db) -> None:
    """The demo state (organizations, one account per role, the catalog) in the live server's
    database. Function-scoped: transactional_db empties the tables after every test."""
    from io import StringIO

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
