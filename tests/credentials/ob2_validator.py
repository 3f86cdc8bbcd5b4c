"""1EdTech's Open Badges 2.0 validator (tools/ob2-validator), run from the tests.

It lives in a virtualenv of its own (its dependencies are far older than ours); the first call
creates it from the pinned requirements, and a change of those requirements makes it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "ob2-validator"
VENV = TOOL / ".venv"
PYTHON = VENV / "bin" / "python"


def _fingerprint() -> str:
    return hashlib.sha256((TOOL / "requirements.txt").read_bytes()).hexdigest()


def ensure_installed() -> None:
    marker = VENV / ".installed"
    if marker.exists() and marker.read_text() == _fingerprint():
        return
    # Parallel test workers may all get here: one installs, the others wait for it.
    with open(Path(tempfile.gettempdir()) / "microcred-ob2-validator.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == _fingerprint():
            return
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
        requirements = str(TOOL / "requirements.txt")
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", "--no-deps", "-r", requirements],
            check=True,
            timeout=900,
        )
        marker.write_text(_fingerprint())


def validate(url: str, email: str | None = None) -> dict:
    """The validator's report on the hosted assertion at `url` (recipient checked if given)."""
    ensure_installed()
    completed = subprocess.run(
        [str(PYTHON), str(TOOL / "validate.py"), url, *([email] if email else [])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The OB 2.0 validator failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
