"""Webhooks: endpoints an organization registers, the events the system tells them about, one
delivery per event and endpoint, and every attempt to deliver it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    CREDENTIAL_ISSUED = "credential.issued", "A credential was issued"
    CREDENTIAL_REVOKED = "credential.revoked", "A credential was revoked"
    DECISION_MADE = "decision.made", "A submission's decision was made"
    LEDGER_ENTRY_POSTED = "ledger_entry.posted", "A ledger entry was posted"
    TEST = "webhook.test", "Test event"


# What an endpoint may subscribe to; the test event goes only where someone sends it.
SUBSCRIBABLE: tuple[str, ...] = tuple(t for t in EventType.values if t != EventType.TEST)


class WebhookEndpoint(models.Model):
    """A URL of another system that receives signed events of one organization."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField("endpoint URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # The signing secret, sealed with AES-GCM (webhooks.sealing); never stored in clear.
    sealed_secret = models.BinaryField(editable=False)
    # The secret's last characters: enough for a person to tell which one a receiver holds.
    secret_hint = models.CharField(max_length=8, editable=False)
    secret_set_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # A lease, not a lock held across the network: the one worker sending to this endpoint
    # sets these with a compare-and-set (webhooks.delivery.claim), so two never send at once
    # and deliveries leave in order, on SQLite and PostgreSQL alike.
    busy_until = models.DateTimeField(null=True, blank=True, editable=False)
    busy_token = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["organization__name", "url", "pk"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.event_types


class WebhookEvent(models.Model):
    """Something that happened, stored once with the exact payload every endpoint receives
    (a retry or a redelivery re-sends the same id and body)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # What the event is about ("credential.issued:<uuid>"): a signal sent twice finds the
    # event the first one stored. Empty for test events, each of which is new.
    source_key = models.CharField(max_length=120, blank=True)
    # The organizations whose endpoints may receive it (ids), decided when it happened.
    scope = models.JSONField(default=list)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~models.Q(source_key=""),
                name="webhook_event_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint. Per endpoint, deliveries leave in the order of
    their ids (which follow the events' order); a failing one holds the ones behind it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Gave up"

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    # A redelivery someone asked for re-sends the event of an earlier delivery (both go with
    # their endpoint; SET_NULL would make a redelivery look like a second original).
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="redeliveries"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=models.Q(redelivery_of__isnull=True),
                name="webhook_delivery_once_per_endpoint",
            )
        ]
        indexes = [
            models.Index(fields=["endpoint", "status", "id"], name="webhook_delivery_queue_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST of a delivery and what came of it: the delivery log."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhook_attempt_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery}"
