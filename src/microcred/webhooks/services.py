"""Writes of webhooks: endpoints (add, change, rotate the secret, delete), the test event and
redelivery. Each write checks who acts and the state it starts from, and runs in one
transaction with its AuditEvent; bad input raises ValidationError keyed by field and changes
nothing. The secret is returned once, by `create_endpoint` and `rotate_secret`."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from microcred.orgs.models import Organization
from microcred.orgs.services import record_audit

from . import delivery as sending
from . import sealing, selectors
from .models import SUBSCRIBABLE, EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS = 10
URL_MAX = WebhookEndpoint._meta.get_field("url").max_length or 500
DESCRIPTION_MAX = WebhookEndpoint._meta.get_field("description").max_length or 200


def _check_admin(actor: Any, organization: Organization) -> None:
    if not selectors.administers(actor, organization):
        raise PermissionDenied(f"You cannot manage the webhooks of {organization.name}.")


def url_problem(url: str) -> str | None:
    """Why the URL cannot receive webhooks, or None. HTTPS is required in production (the
    payloads name people); plain HTTP is allowed elsewhere, for local receivers. In production
    addresses on this machine or a private network are refused, so that nobody points the
    server at its own neighbours."""
    if not url:
        return "Enter the address that should receive the events, such as https://hr.example.org/hooks."
    if len(url) > URL_MAX:
        return f"Keep the address to {URL_MAX} characters or fewer."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Enter a full web address, starting with https://, such as https://hr.example.org/hooks."
    parts = urlsplit(url)
    production = getattr(settings, "PRODUCTION", False)
    if parts.scheme != "https" and production:
        return "Use an https:// address: the events name people, so they travel encrypted."
    if parts.username or parts.password:
        return (
            "Leave the user name and password out of the address: the signature proves who sends."
        )
    if parts.fragment:
        return "Leave out the part after “#”: it is never sent to the server."
    if production:
        host = (parts.hostname or "").lower()
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if (
            host == "localhost"
            or host.endswith(".localhost")
            or (address is not None and not address.is_global)
        ):
            return (
                "Use an address on the internet: local and private network addresses are refused."
            )
    return None


def _clean(url: str, event_types: Iterable[str], description: str) -> tuple[str, list[str], str]:
    url, description = url.strip(), description.strip()
    wanted = list(dict.fromkeys(event_types))
    errors: dict[str, list[str]] = {}
    if problem := url_problem(url):
        errors["url"] = [problem]
    unknown = [t for t in wanted if t not in SUBSCRIBABLE]
    if unknown:
        errors["event_types"] = [
            f"Unknown event type: {', '.join(unknown)}. Choose among: {', '.join(SUBSCRIBABLE)}."
        ]
    elif not wanted:
        errors["event_types"] = ["Choose at least one kind of event to send."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Keep the description to {DESCRIPTION_MAX} characters or fewer."]
    if errors:
        raise ValidationError(errors)
    # Stored in the catalogue's order, so that two forms choosing the same compare equal.
    return url, [t for t in SUBSCRIBABLE if t in wanted], description


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _set_secret(endpoint: WebhookEndpoint, secret: str) -> None:
    endpoint.sealed_secret = sealing.seal(secret, endpoint.pk)
    endpoint.secret_hint = secret[-4:]
    endpoint.secret_set_at = timezone.now()


def _audit_data(endpoint: WebhookEndpoint) -> dict[str, Any]:
    # Never the secret: only its last characters, which identify it without revealing it.
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
        "secret_hint": endpoint.secret_hint,
    }


def create_endpoint(
    actor: Any,
    organization: Organization,
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the organization, and its signing secret (never readable again)."""
    _check_admin(actor, organization)
    url, types, description = _clean(url, event_types, description)
    with transaction.atomic():
        # Locking the organization makes two creations at once count each other.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS:
            raise ValidationError(
                {
                    "url": f"{organization.name} already has {MAX_ENDPOINTS} endpoints: delete "
                    "one it no longer uses."
                }
            )
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            event_types=types,
            description=description,
            created_by=actor if getattr(actor, "pk", None) else None,
            sealed_secret=b"",
        )
        secret = _new_secret()
        _set_secret(endpoint, secret)  # sealed with the endpoint's id, so after it has one
        endpoint.save(update_fields=["sealed_secret", "secret_hint", "secret_set_at"])
        record_audit(
            actor,
            "webhook.created",
            endpoint,
            organization=organization,
            data=_audit_data(endpoint),
        )
    return endpoint, secret


def update_endpoint(
    actor: Any,
    endpoint: WebhookEndpoint,
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    active: bool = True,
) -> bool:
    """Change the address, events, description or pause; False when nothing changed."""
    _check_admin(actor, endpoint.organization)
    url, types, description = _clean(url, event_types, description)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _audit_data(endpoint)
        new = (url, types, description, active)
        if new == (endpoint.url, endpoint.event_types, endpoint.description, endpoint.active):
            return False
        resumed = active and not endpoint.active
        endpoint.url, endpoint.event_types, endpoint.description, endpoint.active = new
        endpoint.save(update_fields=["url", "event_types", "description", "active", "updated"])
        record_audit(
            actor,
            "webhook.updated",
            endpoint,
            organization=endpoint.organization,
            data={"before": before, "after": _audit_data(endpoint)},
        )
        if resumed:  # what waited while it was paused goes out now, in order
            sending.schedule_on_commit(endpoint.pk)
    return True


def rotate_secret(actor: Any, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, used from the next attempt on; the old one stops at once."""
    _check_admin(actor, endpoint.organization)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        old_hint = endpoint.secret_hint
        secret = _new_secret()
        _set_secret(endpoint, secret)
        endpoint.save(update_fields=["sealed_secret", "secret_hint", "secret_set_at", "updated"])
        record_audit(
            actor,
            "webhook.secret_rotated",
            endpoint,
            organization=endpoint.organization,
            data={"before": old_hint, "after": endpoint.secret_hint},
        )
    return secret


def delete_endpoint(actor: Any, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log; the audit log keeps that it existed."""
    _check_admin(actor, endpoint.organization)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        record_audit(
            actor,
            "webhook.deleted",
            endpoint,
            organization=endpoint.organization,
            data={
                **_audit_data(endpoint),
                "deliveries": endpoint.deliveries.count(),
            },
        )
        endpoint.delete()


def send_test(actor: Any, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a webhook.test event to the endpoint now, through the same signing and logging as
    every event, and return the delivery as it stands afterwards (delivered or not)."""
    _check_admin(actor, endpoint.organization)
    if not endpoint.active:
        raise ValidationError("The endpoint is paused: turn it on before sending a test event.")
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            type=EventType.TEST,
            payload={
                "message": "A test event from microcred: your endpoint is reachable and the "
                "signature checks out.",
                "organization": endpoint.organization.slug,
            },
            scope=[endpoint.organization_id],
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            requested_by=actor if getattr(actor, "pk", None) else None,
            next_attempt_at=event.created,
        )
        record_audit(
            actor,
            "webhook.test_sent",
            endpoint,
            organization=endpoint.organization,
            data={"event": str(event.id)},
        )
    return sending.deliver_now(delivery)


def redeliver(actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery's event again, with the same id and body, behind whatever
    waits for the endpoint. A delivery still waiting is already on its way: refused."""
    endpoint = delivery.endpoint
    _check_admin(actor, endpoint.organization)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == WebhookDelivery.Status.PENDING:
            raise ValidationError(
                "This delivery is still waiting to be sent, so it was not queued again."
            )
        if not endpoint.active:
            raise ValidationError("The endpoint is paused: turn it on before redelivering.")
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            redelivery_of=delivery,
            requested_by=actor if getattr(actor, "pk", None) else None,
            next_attempt_at=timezone.now(),
        )
        record_audit(
            actor,
            "webhook.redelivered",
            endpoint,
            organization=endpoint.organization,
            data={"event": str(delivery.event_id), "delivery": delivery.pk},
        )
        sending.schedule_on_commit(endpoint.pk)
    return again


def forget_old_events(now: Any = None) -> int:
    """Delete events older than MICROCRED_WEBHOOK_KEEP_DAYS whose every delivery is finished
    (delivered or given up), with their deliveries and attempts; returns how many events.
    An event still waiting anywhere is kept whatever its age: deleting it would lose it."""
    days = int(getattr(settings, "MICROCRED_WEBHOOK_KEEP_DAYS", 90))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = WebhookEvent.objects.filter(created__lt=cutoff).exclude(
        deliveries__status=WebhookDelivery.Status.PENDING
    )
    ids = list(old.values_list("pk", flat=True))
    with transaction.atomic():
        # Redeliveries point at their first delivery: both go with the event.
        WebhookDelivery.objects.filter(event_id__in=ids).delete()
        WebhookEvent.objects.filter(pk__in=ids).delete()
    return len(ids)
