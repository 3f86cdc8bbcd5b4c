"""JSON over real HTTP, as a script holding an API token speaks it: for tests against a live
server (Django's live_server, or the scaled-out deployment in tests/scaleout)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any


class Http:
    def __init__(self, base: str, secret: str) -> None:
        self.base = base
        self.secret = secret

    def base_for_next_call(self) -> str:
        return self.base

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            url if url.startswith("http") else self.base_for_next_call() + url,
            data=data,
            method=method,
        )
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.secret}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                content = response.read()
                status, answer_headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            content, status, answer_headers = error.read(), error.code, error.headers
        return status, json.loads(content) if content else None, answer_headers
