"""/healthz and /readyz, as a load balancer and an orchestrator call them."""

from __future__ import annotations

import pytest
from django.test import Client

from microcred.web import health


def test_liveness_touches_nothing_and_needs_no_sign_in():
    # No database mark: a query would fail the test.
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readiness_checks_each_dependency_by_name():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "storage", "task_queue"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_a_failing_dependency_makes_it_unready_naming_the_check_not_the_cause(monkeypatch, caplog):
    def down() -> None:
        raise ConnectionError("storage.internal:9000 refused the connection")

    monkeypatch.setitem(health.CHECKS, "storage", down)
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"]["ok"] is False and body["checks"]["database"]["ok"]
    assert "storage.internal" not in response.content.decode()  # the probe is public
    assert "storage.internal:9000 refused" in caplog.text  # the operator reads the log


def test_writes_are_refused():
    assert Client().post("/readyz").status_code == 405
