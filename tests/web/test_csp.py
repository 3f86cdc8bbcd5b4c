"""The site-wide Content-Security-Policy (issue 8, finding 5): Django's own middleware sends a
strict policy on every response; no template relies on inline script, inline event handlers
or inline styles, which that policy refuses; the API documentation runs Swagger UI from our
own static files; /favicon.ico exists. The browser tests fail on any CSP violation (see
tests/e2e/harness.py); the last tests here check that net itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db

SRC = Path(settings.SRC_DIR)
# Emails are read in mail clients, where our CSP does not apply and inline styles are the norm.
NOT_PAGES = {"email"}


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values for name, *values in (directive.split() for directive in header.split(";"))
    }


@pytest.mark.parametrize(
    "url", ["/", "/catalog/", "/accounts/login/", "/api/v1/docs", "/no-such-page/"]
)
def test_every_page_carries_the_strict_policy(client: Client, url: str) -> None:
    got = policy(client.get(url))
    assert got["default-src"] == ["'self'"]
    # Scripts from our origin only; a nonce appears only when a template asked for one.
    assert got["script-src"][0] == "'self'"
    assert all(v.startswith("'nonce-") for v in got["script-src"][1:])
    assert got["style-src"] == ["'self'"]
    assert got["object-src"] == ["'none'"]
    assert got["base-uri"] == ["'none'"]
    assert got["frame-ancestors"] == ["'none'"]
    assert got["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in str(got) and "'unsafe-eval'" not in str(got)


def test_a_template_asking_for_the_nonce_gets_the_one_in_the_header(rf) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.template import engines

    template = engines["django"].from_string("<script nonce='{{ csp_nonce }}'>1</script>")

    def view(request):
        from django.http import HttpResponse

        return HttpResponse(template.render({}, request))

    request = rf.get("/")
    request.user = AnonymousUser()
    response = ContentSecurityPolicyMiddleware(view)(request)
    nonce = re.search(r"nonce='([^']+)'", response.content.decode())[1]
    assert f"'nonce-{nonce}'" in policy(response)["script-src"]


class InlineCode(HTMLParser):
    """Inline script, inline event handlers and inline styles in a template's markup."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        line = self.getpos()[0]
        if tag == "style":
            self.found.append(f"line {line}: a <style> element")
        # Data blocks (json_script, allauth's onload data) never run: they are fine.
        data_block = names.get("type") in {"application/json", "application/ld+json"}
        if tag == "script" and "src" not in names and "nonce" not in names and not data_block:
            self.found.append(f"line {line}: an inline <script>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"line {line}: {name}= on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"line {line}: a javascript: URL")


def page_templates() -> list[Path]:
    return sorted(
        path
        for path in SRC.glob("*/templates/**/*.html")
        if not NOT_PAGES & set(path.relative_to(SRC).parts)
    )


def test_no_template_needs_inline_script_or_style() -> None:
    problems = []
    for path in page_templates():
        parser = InlineCode()
        parser.feed(path.read_text())
        problems += [f"{path.relative_to(SRC)} {problem}" for problem in parser.found]
    assert page_templates(), "no templates found"
    assert problems == []


def test_htmx_keeps_its_indicator_styles_out_of_the_page(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<meta name="htmx-config"' in html and '"includeIndicatorStyles": false' in html
    css = (SRC / "web" / "static" / "web" / "site.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and names.get("src"):
            self.urls.append(str(names["src"]))
        if tag == "link" and names.get("href"):
            self.urls.append(str(names["href"]))


def test_the_api_docs_run_swagger_ui_from_our_static_files(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = Assets()
    assets.feed(html)
    scripts = [url for url in assets.urls if url.endswith(".js")]
    assert any(url.endswith("swagger-ui-bundle.js") for url in scripts)
    assert not any(url.startswith(("http:", "https:", "//")) for url in assets.urls), assets.urls
    for url in assets.urls:
        assert client.get(url).status_code == 200, url
    # The settings travel as a JSON data block (escaped), not pasted into a script.
    assert '<script id="swagger-settings" type="application/json">' in html
    assert '"url": "/api/v1/openapi.json"' in html


def test_favicon_is_served_at_the_root_and_linked_from_every_page(client: Client) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/x-icon"
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assets = Assets()
    assets.feed(client.get("/").content.decode())
    linked = [url for url in assets.urls if "favicon" in url]
    assert linked and all(client.get(url).status_code == 200 for url in linked)


# --- The browser net itself -----------------------------------------------------------------


def test_the_browser_tests_catch_a_csp_violation(page: Page) -> None:
    page.goto("/")
    page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = 'document.title = "injected"';
            document.body.append(s);
        }"""
    )
    expect(page).not_to_have_title("injected")
    for _ in range(40):  # the report reaches Python a moment after the refusal
        if page.csp_violations:  # type: ignore[attr-defined]
            break
        page.wait_for_timeout(50)
    assert any("script-src" in v for v in page.csp_violations)  # type: ignore[attr-defined]
    page.csp_violations.clear()  # type: ignore[attr-defined]  # expected here: not a failure
