"""`make run` as a newcomer types it: on another port, the site's own links follow that port,
and running it a second time on the same data serves the same site without loading anything again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

# A whole server run: once per CI run, with the browser tests, not once per database.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _serve_and_fetch(port: int, env: dict[str, str], path: str) -> tuple[int, bytes]:
    """Start `make run`, wait until `path` answers, stop the server, return the answer."""
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                return _get(f"http://127.0.0.1:{port}{path}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        pytest.fail(f"make run did not serve {path} on port {port}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)


@pytest.fixture
def fresh_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.pop("MICROCRED_SITE_URL", None)
    env.update(
        MICROCRED_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'demo.sqlite3'}",
    )
    return env


def test_make_run_on_another_port_builds_its_links_for_that_port(fresh_env):
    port = _free_port()
    status, body = _serve_and_fetch(port, fresh_env, "/issuers/state-issuer/did.json")
    assert status == 200
    document = json.loads(body)
    # did:web names the host and port the site serves on (port as %3A).
    assert document["id"] == f"did:web:127.0.0.1%3A{port}:issuers:state-issuer"

    # A second `make run` on the same data serves the same issuer without reloading the demo.
    status, again = _serve_and_fetch(port, fresh_env, "/issuers/state-issuer/did.json")
    assert status == 200
    assert json.loads(again)["id"] == document["id"]
