"""The webhook pages under /manage/webhooks/: thin; webhooks.selectors reads and
webhooks.services writes. Another organization's endpoint answers 404, like a missing one."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from microcred.orgs.forms import show_service_errors

from . import selectors, services
from .forms import EditEndpointForm, NewEndpointForm
from .models import WebhookDelivery, WebhookEndpoint

LOG_SIZE = 50


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "webhooks/forbidden.html", status=403)


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    endpoint = selectors.endpoint_for(request.user, pk)
    if endpoint is None:
        raise Http404("There is no such endpoint among those you manage.")
    return endpoint


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("webhooks.view_webhooks"):
        return _forbidden(request)
    context = {"endpoints": selectors.endpoints_for(request.user)}
    return render(request, "webhooks/list.html", context)


def _detail(request: HttpRequest, endpoint: WebhookEndpoint, **extra: Any) -> HttpResponse:
    deliveries = list(selectors.deliveries_of(endpoint)[:LOG_SIZE])
    head_id = selectors.first_waiting_id(endpoint)
    rows = [(d, selectors.delivery_message(d, head_id)) for d in deliveries]
    context = {"endpoint": endpoint, "rows": rows, "log_size": LOG_SIZE, **extra}
    return render(request, "webhooks/detail.html", context)


@login_required
# A new endpoint receives events that name people, and a secret: a recent sign-in is asked
# for before one is made (showing the form does not need it).
@reauthentication_required(allow_get=True)
def endpoint_add(request: HttpRequest) -> HttpResponse:
    organizations = selectors.administrable_organizations(request.user)
    if not organizations.exists():
        return _forbidden(request)
    form = NewEndpointForm(
        request.POST if request.method == "POST" else None,
        organizations=organizations,
        initial={"event_types": []},
    )
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.create_endpoint(
                request.user,
                form.cleaned_data["organization"],
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            # Rendered, not redirected: the secret must not wait in a session or a cookie.
            messages.success(request, f"The endpoint {endpoint.url} was added.")
            return _detail(request, endpoint, secret=secret)
    status = 400 if form.is_bound else 200
    return render(request, "webhooks/form.html", {"form": form, "adding": True}, status=status)


@login_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _endpoint(request, pk))


@login_required
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    form = EditEndpointForm(
        request.POST if request.method == "POST" else None,
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "active": endpoint.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_endpoint(request.user, endpoint, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, "The endpoint's settings were saved.")
            else:
                messages.info(request, "Nothing had changed, so nothing was saved.")
            return redirect("webhooks:detail", pk=endpoint.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "endpoint": endpoint, "adding": False}
    return render(request, "webhooks/form.html", context, status=status)


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    secret = services.rotate_secret(request.user, endpoint)
    endpoint.refresh_from_db()
    messages.success(
        request, "The endpoint has a new secret: the old one no longer signs anything."
    )
    return _detail(request, endpoint, secret=secret)


@login_required
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        services.delete_endpoint(request.user, endpoint)
        messages.success(request, f"The endpoint {endpoint.url} and its delivery log were deleted.")
        return redirect("webhooks:list")
    return render(request, "webhooks/delete.html", {"endpoint": endpoint})


@login_required
@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    try:
        delivery = services.send_test(request.user, endpoint)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        if delivery.status == WebhookDelivery.Status.DELIVERED:
            messages.success(
                request,
                f"The test event was delivered: the endpoint answered {delivery.last_status_code}.",
            )
        elif delivery.attempts == 0:
            messages.info(
                request,
                "Another delivery to this endpoint is on its way; the test event follows it. "
                "See its result in the log below.",
            )
        else:
            messages.error(
                request,
                "The test event was not delivered. "
                f"{selectors.answer_text(delivery.last_status_code, delivery.last_error)}.",
            )
    return redirect("webhooks:detail", pk=endpoint.pk)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    delivery = selectors.delivery_for(request.user, endpoint, delivery_pk)
    if delivery is None:
        raise Http404("There is no such delivery to this endpoint.")
    try:
        services.redeliver(request.user, delivery)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            f"The {delivery.event.type} event {delivery.event_id} was queued again, with the same "
            "id: see the newest row of the log.",
        )
    return redirect("webhooks:detail", pk=endpoint.pk)
