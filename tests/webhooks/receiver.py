"""A real webhook receiver for the tests: an HTTP server thread on 127.0.0.1 that does what a
careful receiving system does, and can be told to misbehave.

It checks the `Microcred-Signature` header with the endpoint's secret and refuses stale
timestamps (401), dedupes by `Microcred-Event-Id` (a repeat is answered 200 and not counted
again), and records every request and the order in which events were accepted. `misbehave`
makes the next requests answer 500 or hang past the sender's timeout."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    answered: int | None  # None: hung, no answer was given in time

    @property
    def event_id(self) -> str:
        return self.headers.get("Microcred-Event-Id", "")

    @property
    def attempt(self) -> int:
        return int(self.headers.get("Microcred-Delivery-Attempt", "0"))

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """What a receiver does with the signature header; False on anything wrong."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, given)


@dataclass
class Receiver:
    secret: str = ""
    requests: list[Request] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # envelopes, arrival order
    plan: deque[str] = field(default_factory=deque)  # "500" or "hang", one per next request
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def misbehave(self, *how: str) -> None:
        """misbehave("500", "hang"): the next requests answer so, in turn; then all is well."""
        self.plan.extend(how)

    @property
    def accepted_ids(self) -> list[str]:
        return [envelope["id"] for envelope in self.accepted]

    def accepted_types(self) -> list[str]:
        return [envelope["type"] for envelope in self.accepted]

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int | None, bytes]:
        ok = verify(self.secret, headers.get("Microcred-Signature", ""), body)
        with self.lock:
            how = self.plan.popleft() if ok and self.plan else ""
        request = Request(headers, body, ok, None)
        self.requests.append(request)
        if not ok:
            request.answered = 401
            return 401, b"bad signature"
        if how == "hang":
            self.released.wait(10)  # the sender gives up long before; teardown releases us
            return None, b""
        if how == "500":
            request.answered = 500
            return 500, b"oops"
        envelope = json.loads(body)
        with self.lock:
            if envelope["id"] not in self.accepted_ids:  # dedupe on the idempotency key
                self.accepted.append(envelope)
        request.answered = 200
        return 200, b"ok"


def start(receiver: Receiver) -> Receiver:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = receiver.handle(dict(self.headers.items()), body)
            if status is None:
                return
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return receiver


def stop(receiver: Receiver) -> None:
    receiver.released.set()
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
