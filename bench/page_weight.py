#!/usr/bin/env python
"""Weight of the attempt page: what a teacher's browser downloads to open a portfolio that can
take uploads (issue 8, finding 17; the goal is under 150 KB transferred with compression).

    .venv/bin/python bench/page_weight.py

Builds a throwaway database (a temporary SQLite file; with DATABASE_URL set, a separate test
database on that server), loads the demo, signs in as the demo earner with Django's test Client,
starts an attempt at a published micro-credential that takes files, fetches the attempt page and
every script, module import, stylesheet and icon it references, and prints each one's raw and
gzip size (level 9, as WhiteNoise's CompressedManifestStaticFilesStorage stores them) and the
totals. Uppy, which the uploader imports only when the person starts an upload, is listed
apart. The database is removed at the end.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import configure  # noqa: E402  (bench/, the script's own folder, is on the path)

GOAL_BYTES = 150 * 1024
# Static `import ... from "x"` / `import "x"` in a module script: fetched before it runs.
STATIC_IMPORT = re.compile(r"""^\s*import\s+(?:[^'"]*\sfrom\s+)?['"]([^'"]+)['"]""", re.M)


class References(HTMLParser):
    """The URLs a page makes the browser fetch as it loads: scripts, stylesheets, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.lazy: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(str(a["src"]))
        elif tag == "link" and a.get("href"):
            rel = set((a.get("rel") or "").split())
            if rel & {"stylesheet", "icon", "modulepreload", "preload"}:
                self.urls.append(str(a["href"]))
        if a.get("data-uppy"):
            self.lazy.append(str(a["data-uppy"]))


def uploadable_attempt(earner: Any) -> Any:
    """An attempt of the earner, just started, at a published MC with a part taking files."""
    from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion
    from microcred.earning import services
    from microcred.earning.models import Attempt

    kinds = set(EvidenceRequirement.Kind) - EvidenceRequirement.TEXT_KINDS
    versions = MicroCredentialVersion.objects.filter(
        status=MicroCredentialVersion.Status.PUBLISHED, evidence_requirements__kind__in=kinds
    ).exclude(micro_credential__versions__attempts__earner=earner)
    for version in versions.distinct():
        attempt, _ = services.start_attempt(version, user=earner)
        if attempt.status == Attempt.Status.IN_PROGRESS:
            return attempt
    raise SystemExit("No demo micro-credential with a file part is open to the demo earner.")


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        configure(Path(tmp))
        from io import StringIO

        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from microcred.orgs.demo import ACCOUNTS
        from microcred.orgs.models import User

        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            call_command("load_demo", stdout=StringIO())
            account = next(a for a in ACCOUNTS if a.email.startswith("earner@"))
            client = Client()
            assert client.login(email=account.email, password=account.password)
            attempt = uploadable_attempt(User.objects.get(email=account.email))
            page_url = f"/earn/{attempt.uuid}/"
            html = client.get(page_url)
            assert html.status_code == 200, html.status_code
            refs = References()
            refs.feed(html.content.decode())

            rows: list[tuple[str, bytes]] = [(page_url, html.content)]
            queue, seen = list(refs.urls), set()
            while queue:
                url = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                data = body(response)
                rows.append((url, data))
                if url.endswith((".js", ".mjs")):
                    base = url.rsplit("/", 1)[0]
                    for spec in STATIC_IMPORT.findall(data.decode(errors="replace")):
                        if spec.startswith("."):
                            queue.append(os.path.normpath(f"{base}/{spec}"))

            print(f"Attempt page of the demo earner ({connection.vendor}, {test_db}):")
            print(f"{'raw bytes':>11} {'gzip bytes':>11}  resource")
            total_raw = total_gz = 0
            for url, data in rows:
                packed = len(gzip.compress(data, compresslevel=9))
                total_raw += len(data)
                total_gz += packed
                print(f"{len(data):>11,} {packed:>11,}  {url}")
            verdict = "within" if total_gz <= GOAL_BYTES else "OVER"
            print(f"{total_raw:>11,} {total_gz:>11,}  total on load ({verdict} the 150 KB goal)")
            for url in refs.lazy:
                data = body(client.get(url))
                packed = len(gzip.compress(data, compresslevel=9))
                print(f"{len(data):>11,} {packed:>11,}  {url} (only when an upload starts)")
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
