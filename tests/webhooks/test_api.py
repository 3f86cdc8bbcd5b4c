"""Webhooks over the API (invariant 8): the same services, reach and refusals as the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from microcred.orgs.tokens import create_token
from microcred.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks"


def bearer(user) -> Client:
    _, secret = create_token(user, name="script")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_a_script_adds_an_endpoint_tests_it_reads_the_log_and_redelivers(lea_admin, receiver):
    api = bearer(lea_admin)
    made = api.post(
        f"{BASE}/endpoints",
        {"organization": "pine", "url": receiver.url, "event_types": ["decision.made"]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    receiver.secret = body["secret"]
    assert body["secret_hint"] == body["secret"][-4:]
    pk = body["id"]
    assert "secret" not in api.get(f"{BASE}/endpoints/{pk}").json()
    assert [e["id"] for e in api.get(f"{BASE}/endpoints").json()] == [pk]

    tested = api.post(f"{BASE}/endpoints/{pk}/test")
    assert tested.status_code == 200
    assert (tested.json()["status"], tested.json()["last_status_code"]) == ("delivered", 200)
    log = api.get(f"{BASE}/endpoints/{pk}/deliveries").json()
    assert log[0]["event_type"] == "webhook.test" and log[0]["log"][0]["ok"] is True

    again = api.post(f"{BASE}/endpoints/{pk}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["event_id"] == log[0]["event_id"]

    changed = api.put(
        f"{BASE}/endpoints/{pk}",
        {"url": receiver.url, "event_types": ["credential.issued"], "active": False},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    rotated = api.post(f"{BASE}/endpoints/{pk}/secret").json()
    assert rotated["secret"] != body["secret"]
    assert api.delete(f"{BASE}/endpoints/{pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(lea_admin):
    api = bearer(lea_admin)
    answer = api.post(
        f"{BASE}/endpoints",
        {"organization": "pine", "url": "ftp://x", "event_types": ["nonsense"]},
        content_type="application/json",
    )
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"url", "event_types"}
    assert not WebhookEndpoint.objects.exists()


def test_another_organizations_endpoints_are_404(other_lea_admin, lea_endpoint):
    api = bearer(other_lea_admin)
    pk = lea_endpoint.pk
    assert api.get(f"{BASE}/endpoints").json() == []
    assert api.get(f"{BASE}/endpoints/{pk}").status_code == 404
    assert api.get(f"{BASE}/endpoints/{pk}/deliveries").status_code == 404
    assert api.post(f"{BASE}/endpoints/{pk}/test").status_code == 404
    assert api.delete(f"{BASE}/endpoints/{pk}").status_code == 404
    made = api.post(
        f"{BASE}/endpoints",
        {"organization": "pine", "url": "https://x.example.org/", "event_types": ["decision.made"]},
        content_type="application/json",
    )
    assert made.status_code == 404
    assert WebhookEndpoint.objects.count() == 1 and not WebhookDelivery.objects.exists()
