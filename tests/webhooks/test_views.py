"""The webhook pages: who may open them, adding an endpoint (the secret shown once), bad
input, the test button, redelivery, editing, rotating, deleting; another organization's
endpoint is a 404; every change is audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from microcred.orgs.models import AuditEvent, Role
from microcred.orgs.selectors import navigation_for
from microcred.webhooks import services as webhooks
from microcred.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
ALL_EVENTS = ["credential.issued", "credential.revoked", "decision.made", "ledger_entry.posted"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add(client: Client, organization, url: str, events=("credential.issued",)):
    return client.post(
        reverse("webhooks:add"),
        {"organization": organization.pk, "url": url, "event_types": list(events)},
    )


def test_a_district_admin_adds_an_endpoint_and_sees_its_secret_once(lea_admin, org_tree, receiver):
    client = client_for(lea_admin)
    assert "Webhooks" in [item.label for item in navigation_for(lea_admin)]
    form = client.get(reverse("webhooks:add"))
    assert form.status_code == 200
    assert [o.name for o in form.context["form"].fields["organization"].queryset] == [
        "Pine County Schools"
    ]

    added = add(client, org_tree["lea1"], receiver.url, ALL_EVENTS)
    assert added.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = added.context["secret"]
    assert secret.startswith("whsec_") and secret in added.content.decode()
    assert (endpoint.organization, endpoint.url, endpoint.event_types, endpoint.created_by) == (
        org_tree["lea1"],
        receiver.url,
        ALL_EVENTS,
        lea_admin,
    )
    audit = AuditEvent.objects.get(action="webhook.created")
    assert audit.organization == org_tree["lea1"] and secret not in str(audit.data)

    again = client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert secret not in again.content.decode()  # never shown again
    assert f"…{secret[-4:]}" in again.content.decode()
    listed = client.get(reverse("webhooks:list"))
    assert receiver.url in listed.content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the address that should receive the events."),
        ("not a url", "Enter a full web address"),
        ("ftp://files.example.org/in", "Enter a full web address"),
        ("https://user:pw@hr.example.org/hooks", "Leave the user name and password out"),
    ],
)
def test_a_bad_address_gets_a_clear_message_and_nothing_is_made(lea_admin, org_tree, url, message):
    answer = add(client_for(lea_admin), org_tree["lea1"], url)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.created").exists()


def test_production_asks_for_https_and_refuses_private_addresses(lea_admin, org_tree, settings):
    settings.PRODUCTION = True
    settings.MICROCRED_CREDENTIAL_KEY = "a-test-master-secret-of-enough-length"
    client = client_for(lea_admin)
    plain = add(client, org_tree["lea1"], "http://hr.example.org/hooks")
    assert "Use an https:// address" in plain.content.decode()
    private = add(client, org_tree["lea1"], "https://10.0.0.7/hooks")
    assert "local and private network addresses are refused" in private.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert add(client, org_tree["lea1"], "https://hr.example.org/hooks").status_code == 200


def test_no_events_chosen_and_another_districts_organization_are_refused(
    lea_admin, org_tree, receiver
):
    client = client_for(lea_admin)
    none = add(client, org_tree["lea1"], receiver.url, events=())
    assert "Choose at least one kind of event to send." in none.content.decode()
    elsewhere = add(client, org_tree["lea2"], receiver.url)
    assert elsewhere.status_code == 400
    assert "Select a valid choice" in elsewhere.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_test_button_sends_now_and_shows_the_result(lea_admin, lea_endpoint, receiver):
    client = client_for(lea_admin)
    url = reverse("webhooks:test", args=[lea_endpoint.pk])
    page = client.post(url, follow=True)
    assert "The test event was delivered: the endpoint answered 200." in page.content.decode()
    assert receiver.accepted_types() == ["webhook.test"]
    assert receiver.requests[0].signature_ok

    receiver.misbehave("500")
    page = client.post(url, follow=True).content.decode()
    assert (
        "The test event was not delivered. The endpoint answered 500 Internal Server Error." in page
    )
    assert "Gave up" in page and "Redeliver" in page
    assert AuditEvent.objects.filter(action="webhook.test_sent").count() == 2


def test_redeliver_from_the_log(lea_admin, lea_endpoint, receiver):
    delivered = webhooks.send_test(lea_admin, lea_endpoint)
    client = client_for(lea_admin)
    url = reverse("webhooks:redeliver", args=[lea_endpoint.pk, delivered.pk])
    page = client.post(url, follow=True).content.decode()
    assert "was queued again, with the same id" in page
    again = WebhookDelivery.objects.get(redelivery_of=delivered)
    assert again.event_id == delivered.event_id
    assert AuditEvent.objects.filter(action="webhook.redelivered").exists()


def test_editing_pausing_rotating_and_deleting(lea_admin, lea_endpoint, receiver):
    client = client_for(lea_admin)
    edit = reverse("webhooks:edit", args=[lea_endpoint.pk])
    bad = client.post(edit, {"url": "nope", "event_types": ["decision.made"], "active": "on"})
    assert bad.status_code == 400 and "Enter a full web address" in bad.content.decode()
    client.post(edit, {"url": receiver.url, "event_types": ["decision.made"]})
    lea_endpoint.refresh_from_db()
    assert (lea_endpoint.event_types, lea_endpoint.active) == (["decision.made"], False)
    assert AuditEvent.objects.filter(action="webhook.updated").count() == 1

    old_hint = lea_endpoint.secret_hint
    rotated = client.post(reverse("webhooks:rotate", args=[lea_endpoint.pk]))
    new_secret = rotated.context["secret"]
    assert new_secret in rotated.content.decode() and new_secret != receiver.secret
    lea_endpoint.refresh_from_db()
    assert lea_endpoint.secret_hint == new_secret[-4:] != old_hint
    assert AuditEvent.objects.filter(action="webhook.secret_rotated").exists()

    delete = reverse("webhooks:delete", args=[lea_endpoint.pk])
    assert client.get(delete).status_code == 200
    assert client.post(delete).status_code == 302
    assert not WebhookEndpoint.objects.exists()
    audit = AuditEvent.objects.get(action="webhook.deleted")
    assert audit.data["url"] == receiver.url


def test_another_organizations_endpoint_is_a_404_everywhere(other_lea_admin, lea_endpoint):
    client = client_for(other_lea_admin)
    pk = lea_endpoint.pk
    for name in ("detail", "edit", "delete"):
        assert client.get(reverse(f"webhooks:{name}", args=[pk])).status_code == 404
    for name in ("test", "rotate", "delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[pk])).status_code == 404
    redeliver = reverse("webhooks:redeliver", args=[pk, 1])
    assert client.post(redeliver).status_code == 404
    assert lea_endpoint.url not in client.get(reverse("webhooks:list")).content.decode()
    assert WebhookDelivery.objects.count() == 0 and WebhookEndpoint.objects.count() == 1


def test_people_who_administer_no_organization_are_refused(make_user, org_tree):
    teacher = make_user(Role.EARNER, org_tree["school1"])
    client = client_for(teacher)
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get(reverse("webhooks:add")).status_code == 403
    assert "Webhooks" not in [item.label for item in navigation_for(teacher)]


def test_an_issuer_admin_manages_the_issuers_endpoints_and_the_state_sees_them(
    make_user, org_tree, make_endpoint
):
    issuer_admin = make_user(Role.ISSUER_ADMIN, org_tree["issuer"])
    endpoint = make_endpoint(issuer_admin, org_tree["issuer"])
    assert (
        client_for(issuer_admin).get(reverse("webhooks:detail", args=[endpoint.pk])).status_code
        == 200
    )
    state_admin = make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    assert (
        client_for(state_admin).get(reverse("webhooks:detail", args=[endpoint.pk])).status_code
        == 200
    )
    district = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])
    assert (
        client_for(district).get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    )
