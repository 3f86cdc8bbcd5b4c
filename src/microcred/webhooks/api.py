"""Webhooks over the API (invariant 8): list, add and change endpoints, rotate a secret, read
the delivery log, send a test event and redeliver, through webhooks.services like the pages.
Another organization's endpoint answers 404, like a missing one; the secret is in the answer
to the creation and to the rotation only."""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from microcred.orgs.api_auth import ApiTokenAuth

from . import selectors, services
from .models import SUBSCRIBABLE, WebhookAttempt, WebhookDelivery, WebhookEndpoint

router = Router(tags=["Webhooks"], auth=[ApiTokenAuth(), django_auth])


class EndpointOut(Schema):
    id: int
    organization: str = Field(description="The owning organization's slug.")
    url: str
    description: str
    event_types: list[str]
    active: bool
    secret_hint: str = Field(description="The last characters of the signing secret.")
    created: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="The signing secret: shown this once, keep it.")


class EndpointIn(Schema):
    organization: str = Field(description="Slug of an organization you administer.")
    url: str
    description: str = ""
    event_types: list[str] = Field(description=f"Any of: {', '.join(SUBSCRIBABLE)}.")


class EndpointChange(Schema):
    url: str
    description: str = ""
    event_types: list[str]
    active: bool = True


class SecretOut(Schema):
    secret: str
    secret_hint: str


class AttemptOut(Schema):
    number: int
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    message: str = Field(description="The delivery's state in plain words.")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    delivered_at: datetime | None
    redelivery_of: int | None
    log: list[AttemptOut]


def _endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "organization": endpoint.organization.slug,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
        "secret_hint": endpoint.secret_hint,
        "created": endpoint.created,
    }


def _attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        number=attempt.number,
        attempted_at=attempt.attempted_at,
        ok=attempt.ok,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )


def _delivery_out(delivery: WebhookDelivery, head_id: int | None = -1) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.pk,
        event_id=str(delivery.event_id),
        event_type=delivery.event.type,
        status=delivery.status,
        message=selectors.delivery_message(delivery, head_id),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        delivered_at=delivery.delivered_at,
        redelivery_of=delivery.redelivery_of_id,
        log=[_attempt_out(a) for a in delivery.attempt_log.all()],
    )


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    endpoint = selectors.endpoint_for(request.user, pk)
    if endpoint is None:
        raise Http404("There is no such endpoint among those you manage.")
    return endpoint


@router.get("/endpoints", response=list[EndpointOut], summary="Endpoints I manage")
def endpoints(request: HttpRequest) -> list[dict]:
    return [_endpoint_out(e) for e in selectors.endpoints_for(request.user)]


@router.post("/endpoints", response={201: EndpointCreated}, summary="Add an endpoint")
def create(request: HttpRequest, payload: EndpointIn) -> Status:
    organization = (
        selectors.administrable_organizations(request.user)
        .filter(slug=payload.organization)
        .first()
    )
    if organization is None:
        raise Http404("There is no such organization among those whose webhooks you manage.")
    endpoint, secret = services.create_endpoint(
        request.user,
        organization,
        url=payload.url,
        event_types=payload.event_types,
        description=payload.description,
    )
    return Status(201, {**_endpoint_out(endpoint), "secret": secret})


@router.get("/endpoints/{pk}", response=EndpointOut, summary="One endpoint")
def endpoint(request: HttpRequest, pk: int) -> dict:
    return _endpoint_out(_endpoint(request, pk))


@router.put("/endpoints/{pk}", response=EndpointOut, summary="Change or pause an endpoint")
def change(request: HttpRequest, pk: int, payload: EndpointChange) -> dict:
    found = _endpoint(request, pk)
    services.update_endpoint(
        request.user,
        found,
        url=payload.url,
        event_types=payload.event_types,
        description=payload.description,
        active=payload.active,
    )
    return _endpoint_out(_endpoint(request, pk))


@router.delete("/endpoints/{pk}", response={204: None}, summary="Delete an endpoint")
def delete(request: HttpRequest, pk: int) -> Status:
    services.delete_endpoint(request.user, _endpoint(request, pk))
    return Status(204, None)


@router.post("/endpoints/{pk}/secret", response=SecretOut, summary="Make a new signing secret")
def rotate(request: HttpRequest, pk: int) -> SecretOut:
    found = _endpoint(request, pk)
    secret = services.rotate_secret(request.user, found)
    return SecretOut(secret=secret, secret_hint=secret[-4:])


@router.get(
    "/endpoints/{pk}/deliveries",
    response=list[DeliveryOut],
    summary="The delivery log, newest first",
)
def deliveries(request: HttpRequest, pk: int, limit: int = 50) -> list[DeliveryOut]:
    found = _endpoint(request, pk)
    limit = max(1, min(limit, 200))
    head_id = selectors.first_waiting_id(found)
    return [_delivery_out(d, head_id) for d in selectors.deliveries_of(found)[:limit]]


@router.post(
    "/endpoints/{pk}/test", response=DeliveryOut, summary="Send a test event now; its result"
)
def test(request: HttpRequest, pk: int) -> DeliveryOut:
    delivery = services.send_test(request.user, _endpoint(request, pk))
    return _delivery_out(selectors.deliveries_of(delivery.endpoint).get(pk=delivery.pk))


@router.post(
    "/endpoints/{pk}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
    summary="Send a delivered or given-up event again (same event id)",
)
def redeliver(request: HttpRequest, pk: int, delivery_id: int) -> Status:
    found = _endpoint(request, pk)
    delivery = selectors.delivery_for(request.user, found, delivery_id)
    if delivery is None:
        raise Http404("There is no such delivery to this endpoint.")
    again = services.redeliver(request.user, delivery)
    return Status(202, _delivery_out(selectors.deliveries_of(found).get(pk=again.pk)))
