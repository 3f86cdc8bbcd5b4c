"""One micro-credential earned, scored and credentialed through the scaled-out deployment.

`.ci/scaleout` starts it (README, "Running in production"): two gunicorn servers and two task
workers on PostgreSQL, Redis and S3-compatible storage, with the demo loaded, and runs this
module with their addresses and three API tokens in the environment. Every call goes to the
next server in turn, so a step never relies on the process that served the one before it; the
evidence goes to the bucket through presigned URLs, the workers make the assessors' copies and
sign the credential. Without that environment (a plain `make test`) the module is skipped.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.http_client import Http

URLS = [url for url in os.environ.get("MICROCRED_SCALEOUT_URLS", "").split(",") if url]
pytestmark = pytest.mark.skipif(
    len(URLS) < 2, reason="needs the scaled-out deployment that .ci/scaleout starts"
)
MC = "reading-fluency"  # written parts and student work as pictures: no video to encode
PART_SIZE = 5 * 1024 * 1024
served: Counter[str] = Counter()


class RoundRobin(Http):
    """Each call to the next server; counts what each one answered."""

    _servers = itertools.cycle(URLS)

    def base_for_next_call(self) -> str:
        base = next(self._servers)
        served[base] += 1
        return base


def as_(role: str) -> RoundRobin:
    return RoundRobin("", os.environ[f"MICROCRED_SCALEOUT_{role.upper()}_TOKEN"])


def wait_for(what: str, probe: Callable[[], Any], seconds: float = 180) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"Gave up after {seconds:.0f} s waiting for {what}.")


def png(label: int) -> bytes:
    picture = Image.new("RGB", (640, 480), (250, 250, 240 - label))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def upload_picture(earner: Http, attempt_id: str, requirement: int, label: int) -> None:
    api = "/api/v1/earning"
    status, policy, _ = earner.call(
        "POST", f"{api}/attempts/{attempt_id}/parts/{requirement}/upload-policy"
    )
    assert status == 201, policy
    data = png(label)
    status, created, _ = earner.call(
        "POST",
        policy["create_url"],
        {
            "policy": policy["policy"],
            "filename": f"fluency-record-{label}.png",
            "type": "image/png",
            "size": len(data),
            "partSize": PART_SIZE,
        },
    )
    assert status == 201, created
    upload_id = created["uploadId"]
    status, signed, _ = earner.call("GET", f"/uploads/api/{upload_id}/parts/1/sign/")
    assert status == 200, signed
    # The bytes go to the bucket, not to a web process.
    assert not any(signed["url"].startswith(url) for url in URLS), signed["url"]
    status, _, headers = earner.call(
        "PUT",
        signed["url"],
        raw=data,
        auth=False,
        headers={"Content-Type": "application/octet-stream"},  # as a browser's upload sends
    )
    assert status == 200
    parts = [{"PartNumber": 1, "ETag": headers["ETag"]}]
    status, done, _ = earner.call("POST", f"/uploads/api/{upload_id}/complete/", {"parts": parts})
    assert status == 200, done
    status, artifact, _ = earner.call("POST", policy["attach_url"], {"upload": upload_id})
    assert status == 201, artifact
    assert artifact["problem"] is None


def score_in_full(reader: Http, assignment_id: int) -> dict[str, Any]:
    """Waits for the blind copies the workers make, then gives every component its top marks."""
    path = f"/api/v1/assessment/assignments/{assignment_id}"

    def ready() -> dict[str, Any] | None:
        status, detail, _ = reader.call("GET", path)
        assert status == 200, detail
        files = [f for part in detail["evidence"] for f in part["files"]]
        assert all(f["status"] != "unavailable" for f in files), files
        return detail if files and all(f["status"] == "ready" for f in files) else None

    detail = wait_for("the assessor's copies of the evidence", ready)
    if detail["scoring"] == "details":
        chosen = {c["id"]: [k["id"] for k in c["criteria"]] for c in detail["components"]}
    else:
        chosen = {
            c["id"]: [max(c["criteria"], key=lambda k: k["points"])["id"]]
            for c in detail["components"]
        }
    status, score, _ = reader.call(
        "POST",
        f"{path}/score",
        {
            "components": [
                {
                    "component_id": component,
                    "criteria": criteria,
                    "feedback": "The records show steady growth and the routine is clear.",
                }
                for component, criteria in chosen.items()
            ],
            "overall_feedback": "A complete, well-evidenced portfolio.",
            "minutes_spent": 25,
        },
    )
    assert status == 201, score
    return score


def open_assignment(reader: Http, title: str) -> dict[str, Any] | None:
    status, rows, _ = reader.call("GET", "/api/v1/assessment/assignments")
    assert status == 200, rows
    return next((r for r in rows if r["open"] and r["micro_credential"] == title), None)


def test_both_servers_are_ready_with_every_dependency() -> None:
    for url in URLS:
        status, body, _ = Http(url, "").call("GET", "/readyz", auth=False)
        assert status == 200, body
        assert set(body["checks"]) == {"database", "cache", "storage", "task_queue"}
        assert all(check["ok"] for check in body["checks"].values()), body


def test_earn_score_and_verify_a_credential_across_processes() -> None:
    earner, assessor, lead = as_("earner"), as_("assessor"), as_("lead")
    api = "/api/v1/earning"

    status, attempt, _ = earner.call("POST", f"{api}/attempts", {"micro_credential": MC})
    assert status in (200, 201), attempt
    attempt_id = attempt["id"]
    for part in attempt["parts"]:
        if part["kind"] in ("written", "reflection"):
            words = "Three readers grew steadily over four weeks of repeated reading."
            text_url = f"{api}/attempts/{attempt_id}/parts/{part['requirement']}/text"
            status, saved, _ = earner.call("PUT", text_url, {"text": words})
            assert status == 200, saved
        else:
            for label in range(3):
                upload_picture(earner, attempt_id, part["requirement"], label)
    last: dict[str, Any] = {}

    def complete() -> bool:
        # The pictures count once a worker has checked them.
        status, portfolio, _ = earner.call("GET", f"{api}/attempts/{attempt_id}")
        assert status == 200, portfolio
        last.update(portfolio)
        return bool(portfolio["complete"])

    try:
        wait_for("a complete portfolio", complete, seconds=90)
    except AssertionError:
        raise AssertionError([p["missing"] for p in last["parts"]]) from None
    title = last["title"]

    status, submission, _ = earner.call("POST", f"{api}/attempts/{attempt_id}/submit")
    assert status == 201, submission

    first = wait_for("the assessor's assignment", lambda: open_assignment(assessor, title))
    assert score_in_full(assessor, first["id"])["passed"]

    def decided() -> dict[str, Any] | None:
        status, history, _ = earner.call("GET", f"{api}/attempts/{attempt_id}/submissions")
        assert status == 200, history
        if history[-1]["decision"]:
            return history[-1]["decision"]
        # A first-year micro-credential is read twice: the scoring lead reads it too.
        second = open_assignment(lead, title)
        if second is not None:
            score_in_full(lead, second["id"])
        return None

    decision = wait_for("the decision", decided)
    assert decision["earned"] is True, decision

    def issued() -> dict[str, Any] | None:
        status, mine, _ = earner.call("GET", "/api/v1/credentials/mine")
        assert status == 200, mine
        return next((c for c in mine if c["title"] == title), None)

    credential = wait_for("the credential, signed by a worker", issued)
    assert credential["state"] == "valid"
    status, document, _ = earner.call("GET", credential["credential_url"], auth=False)
    assert status == 200 and "OpenBadgeCredential" in document["type"]
    status, verdict, _ = earner.call(
        "POST", "/api/v1/credentials/verify", raw=json.dumps(document).encode(), auth=False
    )
    assert status == 200 and verdict["verified"] is True, verdict

    # Every server took part.
    assert set(served) == set(URLS) and min(served.values()) >= 5, served


def test_the_logs_are_json_lines_that_carry_the_request_id() -> None:
    logs = [Path(p) for p in os.environ.get("MICROCRED_SCALEOUT_LOGS", "").split(",") if p]
    assert logs, "MICROCRED_SCALEOUT_LOGS names the web servers' log files"
    rid = uuid.uuid4().hex
    status, _, headers = Http(URLS[0], "").call(
        "GET", "/healthz", auth=False, headers={"X-Request-ID": rid}
    )
    assert status == 200 and headers["X-Request-ID"] == rid

    def logged() -> dict[str, Any] | None:
        for log in logs:
            for line in log.read_text().splitlines():
                entry = json.loads(line)  # every line is JSON
                if entry.get("request_id") == rid and entry.get("path") == "/healthz":
                    return entry
        return None

    entry = wait_for("the access line", logged, seconds=10)
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["logger"]
