"""Sending deliveries: sign, POST, record the attempt, retry with backoff, keep the order.

Per endpoint, one worker at a time sends, in the order of the deliveries' ids, and a delivery
that failed holds the ones behind it until it succeeds or we give up on it. The worker holds a
lease on the endpoint row (a compare-and-set on `busy_until`/`busy_token`), not a database
lock: the POST may take `MICROCRED_WEBHOOK_TIMEOUT` seconds, and a transaction held open that
long would stop every other writer on SQLite (which takes its write lock at BEGIN) and pin a
connection on PostgreSQL. A worker that dies mid-send leaves a lease that expires; the next one
re-sends the same event id, which receivers dedupe on.

Time: the schedule (what is due, when to retry) follows `now`, which tests and the sweep may
pass; the signature's timestamp and the lease always follow the real clock, since they are
about the network and other processes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import sealing
from .models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

# After the first attempt fails: wait 1 minute, then 5, 30, 2 hours, 6, 12, 24; then give up.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
ERROR_MAX = WebhookDelivery._meta.get_field("last_error").max_length or 300
SIGNATURE_HEADER = "Microcred-Signature"
USER_AGENT = "microcred-webhooks/1"

Status = WebhookDelivery.Status


def timeout_seconds() -> float:
    return float(getattr(settings, "MICROCRED_WEBHOOK_TIMEOUT", 10))


def _lease() -> timedelta:
    # Long enough for one POST (connect and read may each take the timeout) and its recording.
    return timedelta(seconds=3 * timeout_seconds() + 60)


# ---------------------------------------------------------------------------- the wire format
def body_of(event: WebhookEvent) -> bytes:
    """The exact bytes POSTed for an event: the same on every attempt and redelivery."""
    envelope = {
        "id": str(event.id),
        "type": event.type,
        "created": event.created.astimezone(UTC).isoformat(),
        "data": event.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver recomputes it with
    its copy of the secret and refuses an old timestamp, so a captured request cannot be
    replayed later."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def headers_for(secret: str, event: WebhookEvent, body: bytes, attempt: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        # The idempotency key: a retry or a redelivery sends the same id.
        "Microcred-Event-Id": str(event.id),
        "Microcred-Event-Type": event.type,
        "Microcred-Delivery-Attempt": str(attempt),
    }


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0


def _connection_error(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "We could not connect: the endpoint's server refused the connection."
    if "name or service not known" in text.lower() or "nodename" in text.lower():
        return "We could not connect: the endpoint's host name was not found."
    return f"We could not connect to the endpoint: {text}"


def private_address_problem(url: str) -> str | None:
    """In production, why we will not send to this URL's host now: it resolves to this machine
    or a private network (the form refuses such IP addresses; a host name may point there, or
    be changed to later). Checked before each POST; elsewhere local receivers are fine."""
    if not getattr(settings, "PRODUCTION", False):
        return None
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return "We could not connect: the endpoint's host name was not found."
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return (
                f"The endpoint's host name points to a private network address ({address}); "
                "we send only to addresses on the internet."
            )
    return None


def post(endpoint: WebhookEndpoint, event: WebhookEvent, attempt: int) -> Outcome:
    """POST the event once; any answer but 2xx, a timeout or a network error is a failure."""
    try:
        secret = sealing.unseal(endpoint.sealed_secret, endpoint.pk)
    except sealing.SealError as exc:
        return Outcome(False, error=str(exc))
    if problem := private_address_problem(endpoint.url):
        return Outcome(False, error=problem[:ERROR_MAX])
    body = body_of(event)
    timeout = timeout_seconds()
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        # Not streamed in: only the status matters, and a huge answer must not fill memory.
        # Redirects are not followed: the signature was made for this endpoint.
        with requests.post(
            endpoint.url,
            data=body,
            headers=headers_for(secret, event, body, attempt),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            status_code = response.status_code
    except requests.Timeout:
        error = f"The endpoint did not answer within {timeout:g} seconds."
    except requests.exceptions.SSLError as exc:
        error = f"The endpoint's secure connection (TLS) failed: {exc}"
    except requests.ConnectionError as exc:
        error = _connection_error(exc)
    except requests.RequestException as exc:
        error = f"The request failed: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    return Outcome(ok, status_code, error[:ERROR_MAX], duration_ms)


# ---------------------------------------------------------------------------- the lease
def claim(endpoint_id: int) -> str | None:
    """Become the one sender of this endpoint; None when another worker is sending."""
    token = secrets.token_hex(16)
    now = timezone.now()
    taken = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, active=True)
        .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
        .update(busy_until=now + _lease(), busy_token=token)
    )
    return token if taken else None


def _renew(endpoint_id: int, token: str) -> bool:
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id, busy_token=token).update(
            busy_until=timezone.now() + _lease()
        )
    )


def release(endpoint_id: int, token: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, busy_token=token).update(
        busy_until=None, busy_token=""
    )


# ---------------------------------------------------------------------------- sending
def _queue(endpoint_id: int) -> Q:
    return Q(endpoint_id=endpoint_id, endpoint__active=True, status=Status.PENDING)


def head(endpoint_id: int) -> WebhookDelivery | None:
    """The delivery next in line for the endpoint (it may not be due yet)."""
    return (
        WebhookDelivery.objects.filter(_queue(endpoint_id))
        .select_related("event", "endpoint")
        .order_by("id")
        .first()
    )


def attempt_limit(delivery: WebhookDelivery) -> int:
    # A test event is tried once: it tells a person whether the endpoint works now, and a
    # failing test must not hold real events behind it for a day.
    return 1 if delivery.event.type == EventType.TEST else MAX_ATTEMPTS


def record(delivery: WebhookDelivery, outcome: Outcome, clock: datetime) -> WebhookDelivery:
    """Log the attempt and move the delivery on: delivered, retry later, or given up."""
    number = delivery.attempts + 1
    if outcome.ok:
        status, next_at, delivered_at = Status.DELIVERED, None, clock
    elif number >= attempt_limit(delivery):
        status, next_at, delivered_at = Status.GAVE_UP, None, None
    else:
        status, next_at, delivered_at = Status.PENDING, clock + BACKOFF[number - 1], None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=clock,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        delivery.attempts = number
        delivery.status = status
        delivery.next_attempt_at = next_at
        delivery.delivered_at = delivered_at
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.save(
            update_fields=[
                "attempts",
                "status",
                "next_attempt_at",
                "delivered_at",
                "last_status_code",
                "last_error",
            ]
        )
    return delivery


def _send(delivery: WebhookDelivery, clock: datetime) -> WebhookDelivery:
    outcome = post(delivery.endpoint, delivery.event, delivery.attempts + 1)
    return record(delivery, outcome, clock)


def _drain(endpoint_id: int, token: str, now: datetime | None) -> int:
    """Send what is due, in order, while holding the lease; stop at a delivery that must wait."""
    sent = 0
    while True:
        clock = now or timezone.now()
        delivery = head(endpoint_id)
        if delivery is None:
            return sent
        if delivery.next_attempt_at and delivery.next_attempt_at > clock:
            # Its retry was scheduled when it failed (and the sweep backs that up): asking
            # again here would pile up one deferred task per event queued behind it.
            return sent
        if not _renew(endpoint_id, token):
            return sent  # the lease expired and someone else took over
        delivery = _send(delivery, clock)
        sent += 1
        if delivery.status == Status.PENDING:  # failed; it holds the queue until it is retried
            schedule(endpoint_id, delivery.next_attempt_at)
            return sent


def _due(endpoint_id: int, clock: datetime) -> bool:
    """Whether the delivery next in line may go now (those behind it wait, whatever their
    own time says)."""
    first = head(endpoint_id)
    return first is not None and (first.next_attempt_at is None or first.next_attempt_at <= clock)


def deliver_endpoint(endpoint_id: int, *, now: datetime | None = None) -> int:
    """Send every delivery of the endpoint that is due, in order; the number of attempts made.
    Safe to call any number of times, from any number of workers."""
    sent = 0
    while True:
        token = claim(endpoint_id)
        if token is None:
            return sent  # another worker is sending; it will see what we came for
        try:
            sent += _drain(endpoint_id, token, now)
        finally:
            release(endpoint_id, token)
        # A delivery committed while we held the lease found the endpoint busy: look again.
        if not _due(endpoint_id, now or timezone.now()):
            return sent


def deliver_now(delivery: WebhookDelivery, *, now: datetime | None = None) -> WebhookDelivery:
    """Send this one delivery at once, ahead of the queue (the test button): still never while
    another worker sends to the endpoint. Returns it as it stands afterwards."""
    token = claim(delivery.endpoint_id)
    if token is None:
        delivery.refresh_from_db()
        return delivery  # left in the queue; the worker sending now will reach it
    try:
        delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)
        if delivery.status == Status.PENDING:
            delivery = _send(delivery, now or timezone.now())
    finally:
        release(delivery.endpoint_id, token)
    return delivery


def sweep(*, now: datetime | None = None) -> int:
    """Send everything due on every endpoint: covers lost tasks and task backends that cannot
    run a task later (run `manage.py send_webhooks` every minute there)."""
    clock = now or timezone.now()
    endpoint_ids = (
        WebhookDelivery.objects.filter(
            status=Status.PENDING, endpoint__active=True, next_attempt_at__lte=clock
        )
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    return sum(deliver_endpoint(endpoint_id, now=now) for endpoint_id in list(endpoint_ids))


# ---------------------------------------------------------------------------- the task queue
def schedule(endpoint_id: int, at: datetime | None = None) -> None:
    """Ask the task queue to run the endpoint's worker now, or at `at` where the backend can
    run a task later; elsewhere the sweep finds it when it is due."""
    from .tasks import deliver

    try:
        if at is None:
            deliver.enqueue(endpoint_id)
        elif deliver.get_backend().supports_defer:
            deliver.using(run_after=at).enqueue(endpoint_id)
    except Exception:  # a queue that is down must not undo what is committed; the sweep retries
        logger.exception("Could not enqueue webhook delivery for endpoint %s", endpoint_id)


def schedule_on_commit(endpoint_id: int) -> None:
    transaction.on_commit(lambda: schedule(endpoint_id))
