"""Structured logs: one JSON object per line, each carrying its request's id."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from microcred.web.logs import JsonFormatter, RequestIdFilter


def test_each_request_gets_an_id_in_its_response_and_its_access_line(caplog):
    with caplog.at_level(logging.INFO, logger="microcred.access"):
        response = Client().get("/healthz")
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    [line] = [r for r in caplog.records if r.name == "microcred.access"]
    assert (line.method, line.path, line.status) == ("GET", "/healthz", 200)
    assert line.duration_ms >= 0 and line.user_id is None


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("proxy-1234abcd", True), ("bad id with spaces", False), ("x" * 65, False)],
)
def test_a_proxys_sane_request_id_is_kept_and_anything_else_replaced(offered, kept):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=offered)
    assert (response["X-Request-ID"] == offered) is kept


def test_the_json_formatter_writes_one_object_with_the_extras_and_the_exception():
    record = logging.LogRecord("microcred.x", logging.ERROR, __file__, 1, "broke %s", ("it",), None)
    record.status = 500
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "broke it" and entry["level"] == "ERROR"
    assert entry["status"] == 500 and entry["request_id"] == "-"
    assert "ValueError: boom" in entry["exception"]
    assert "\n" not in JsonFormatter().format(record)
