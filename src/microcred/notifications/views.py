"""Notification pages: the list, marking read, opening one, and email preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import EmailPreferencesForm
from .models import Notification

PAGE_SIZE = 25


def _own_notification(request: HttpRequest, pk: int) -> Notification:
    notification = get_object_or_404(Notification, pk=pk)
    # Someone else's notification does not exist, as far as this user can tell.
    if not request.user.has_perm("notifications.view_notification", notification):
        raise Http404
    return notification


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": selectors.unread_count_for_request(request)},
    )


@login_required
@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link (from the list or an email), marking it read."""
    notification = _own_notification(request, pk)
    services.mark_read(request.user, notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = _own_notification(request, pk)
    if services.mark_read(request.user, notification):
        messages.success(request, f"Marked as read: {notification.title}")
    return redirect("notifications:list")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    changed = services.mark_all_read(request.user)
    if changed:
        messages.success(
            request, f"Marked {changed} notification{'s' if changed != 1 else ''} as read."
        )
    else:
        messages.info(request, "You have no unread notifications.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("notifications.change_emailpreference"):
        raise PermissionDenied
    rows = selectors.email_preferences(request.user)
    form = EmailPreferencesForm(rows, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.save_email_preferences(request.user, form.emailed_kinds())
        messages.success(request, "Your email choices are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
