"""Run Digital Bazaar's implementation (tools/vc-reference) on credentials, from Python.

The independent check of our signatures (tests) and the yardstick of the benchmark. Needs `node`
and a source checkout; `ensure_installed()` runs `npm ci` from the lock file the first time.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[3] / "tools" / "vc-reference"
SCRIPT = REFERENCE_DIR / "reference.mjs"


class ReferenceUnavailable(RuntimeError):
    """node, npm or the tools/vc-reference project is missing."""


@dataclass(frozen=True)
class ReferenceRun:
    results: list[dict]  # one per credential: verify -> {"verified", "error"}, sign -> credential
    count: int
    seconds: float  # time inside node spent signing or verifying (no start-up, no parsing)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


def unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed, so Digital Bazaar's reference verifier cannot run"
    if not SCRIPT.exists():
        return f"{SCRIPT} is missing (not a source checkout)"
    return None


def ensure_installed() -> None:
    reason = unavailable_reason()
    if reason:
        raise ReferenceUnavailable(reason)
    marker = REFERENCE_DIR / "node_modules" / ".installed"
    if marker.exists():
        return
    if shutil.which("npm") is None:
        raise ReferenceUnavailable("npm is not installed, so tools/vc-reference cannot be set up")
    # Parallel test workers may all get here: one installs, the others wait for it.
    with open(Path(tempfile.gettempdir()) / "microcred-vc-reference.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=REFERENCE_DIR,
                check=True,
                timeout=600,
            )
            marker.touch()


def _run(arguments: list[str], lines: list[dict]) -> ReferenceRun:
    ensure_installed()
    completed = subprocess.run(
        ["node", str(SCRIPT), *arguments],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=REFERENCE_DIR,
        timeout=3600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"reference.mjs {arguments[0]} failed: {completed.stderr.strip()}")
    output = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    summary = output.pop()["summary"]
    return ReferenceRun(output, summary["count"], summary["seconds"])


def verify(credentials: list[dict]) -> ReferenceRun:
    return _run(["verify"], credentials)


def sign(
    credentials: list[dict], seed: bytes, verification_method: str, created: str
) -> ReferenceRun:
    return _run(
        ["sign", "--seed", seed.hex(), "--vm", verification_method, "--created", created],
        credentials,
    )
