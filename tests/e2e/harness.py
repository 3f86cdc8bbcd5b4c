"""Browser-test harness, loaded as a pytest plugin by tests/conftest.py.

Playwright drives Debian's chromium (or Playwright's own build where that is missing) against
Django's live server. axe-core audits every page a test loads; any WCAG 2.x
A/AA violation fails the test that visited the page. The site's Content-Security-Policy is
enforced as in production, and any violation of it (a blocked script, style, image or request)
fails the test too."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    sync_playwright,
)

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_SCRIPT = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
# Runs before any of the page's own scripts on every document: reports each CSP violation the
# browser raises to the test through an exposed binding (which survives navigations).
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}` +
    ` (${e.sourceFile || document.location.href}:${e.lineNumber})` +
    (e.sample ? `: ${e.sample}` : ''));
});
"""
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
        self.source = AXE_SCRIPT.read_text()

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
            # Evaluated through the DevTools protocol rather than added as an inline <script>,
            # which the site's CSP rightly refuses.
            page.evaluate(self.source)
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


def watch_csp(context: BrowserContext) -> list[str]:
    """Collect every Content-Security-Policy violation in the context's pages (call before
    opening them): the list the browser tests fail on."""
    violations: list[str] = []

    def on_violation(source: Any, text: str) -> None:
        violations.append(f"{source['frame'].url}: {text}")

    def on_console(message: ConsoleMessage) -> None:
        # Chromium also logs refusals the event does not reach (in workers, for instance).
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else ''}: {message.text}")

    context.expose_binding("__cspViolation", on_violation)
    context.add_init_script(CSP_LISTENER)
    context.on("console", on_console)
    return violations


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    csp_violations = watch_csp(context)
    page = context.new_page()
    page.csp_violations = csp_violations  # type: ignore[attr-defined]
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
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(
        dict.fromkeys(csp_violations)
    )


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the real form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    # The second step (a TOTP code, or setting an app up) for accounts that need one.
    from .helpers import pass_second_factor  # helpers imports this module

    pass_second_factor(page, email)


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
