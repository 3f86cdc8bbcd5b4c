"""Reads for the webhook pages and API: whose endpoints a person sees, the delivery log, and
what each delivery's state means in plain words."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone

from microcred.orgs import selectors as org_selectors
from microcred.orgs.models import Organization, Role

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

Kind = Organization.Kind
# Organizations that may own endpoints (the brief: state, district, provider or issuer).
OWNER_KINDS: frozenset[str] = frozenset({Kind.STATE_AGENCY, Kind.LEA, Kind.PROVIDER, Kind.ISSUER})
Status = WebhookDelivery.Status


def administrable_organizations(user: Any) -> QuerySet[Organization]:
    """The active organizations whose webhooks the user may manage."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organization.objects.none()
    managed = org_selectors.manageable_organizations(user).filter(kind__in=OWNER_KINDS)
    issuers = org_selectors.role_organization_ids(user).get(Role.ISSUER_ADMIN, frozenset())
    return (
        Organization.objects.filter(
            Q(pk__in=managed.values("pk")) | Q(pk__in=issuers, kind=Kind.ISSUER)
        )
        .filter(active=True)
        .order_by("name")
    )


def administers(user: Any, organization: Any) -> bool:
    if not isinstance(organization, Organization) or organization.kind not in OWNER_KINDS:
        return False
    if org_selectors.is_active_superuser(user):
        return True
    return administrable_organizations(user).filter(pk=organization.pk).exists()


def endpoints_for(user: Any) -> QuerySet[WebhookEndpoint]:
    """Endpoints of the organizations the user administers, with counts for the list."""
    return (
        WebhookEndpoint.objects.filter(organization__in=administrable_organizations(user))
        .select_related("organization")
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status=Status.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=Status.GAVE_UP)),
        )
        .order_by("organization__name", "url", "pk")
    )


def endpoint_for(user: Any, pk: int) -> WebhookEndpoint | None:
    """The endpoint if the user administers its organization; None otherwise (shown as 404,
    like one that does not exist)."""
    return (
        WebhookEndpoint.objects.filter(pk=pk, organization__in=administrable_organizations(user))
        .select_related("organization", "created_by")
        .first()
    )


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-id")
    )


def delivery_for(user: Any, endpoint: WebhookEndpoint, pk: int) -> WebhookDelivery | None:
    return deliveries_of(endpoint).filter(pk=pk).first()


def _when(value: Any) -> str:
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    return formats.date_format(local, "M j, H:i")


def answer_text(status_code: int | None, error: str) -> str:
    """What the endpoint did, in words: "answered 500 Internal Server Error"."""
    if error:
        return error.rstrip(".")
    if status_code is None:
        return "No answer was recorded"
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = ""
    return f"The endpoint answered {status_code} {phrase}".rstrip()


def attempt_text(attempt: WebhookAttempt) -> str:
    if attempt.ok:
        return f"Delivered: the endpoint answered {attempt.status_code}."
    return answer_text(attempt.status_code, attempt.error) + "."


def first_waiting_id(endpoint: WebhookEndpoint) -> int | None:
    """The id of the delivery at the head of the endpoint's queue."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def delivery_message(delivery: WebhookDelivery, head_id: int | None = -1) -> str:
    """The delivery's state in one plain sentence. `head_id`: the endpoint's
    `first_waiting_id`, when the caller describes many deliveries (read here otherwise)."""
    if delivery.status == Status.DELIVERED:
        return f"Delivered at {_when(delivery.delivered_at)}."
    last = answer_text(delivery.last_status_code, delivery.last_error)
    if delivery.status == Status.GAVE_UP:
        tries = "once" if delivery.attempts == 1 else f"{delivery.attempts} times"
        return f"{last}. We tried {tries} and gave up; use “Redeliver” to send it again."
    if not delivery.endpoint.active:
        return "Waiting: the endpoint is paused. Turn it back on to send it."
    if delivery.attempts == 0:
        if head_id == -1:
            head_id = first_waiting_id(delivery.endpoint)
        if head_id is not None and head_id < delivery.id:
            return "Waiting behind an earlier delivery to this endpoint."
        return "Waiting to be sent."
    return f"{last}; we will try again at {_when(delivery.next_attempt_at)}."
