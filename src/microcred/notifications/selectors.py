"""Reads about a person's notifications and email choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from .models import EmailPreference, Kind, Notification


def notifications_of(user: Any) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created", "-id")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread_count_for_request(request: HttpRequest) -> int:
    """The header shows the count on every page: ask the database once per request, however
    many templates render it."""
    cached = getattr(request, "_microcred_unread_notifications", None)
    if cached is None:
        cached = unread_count(request.user)
        request._microcred_unread_notifications = cached  # type: ignore[attr-defined]
    return cached


def wants_email(user: Any, kind: str) -> bool:
    """No stored choice means yes: people hear about their work unless they opt out."""
    choice = (
        EmailPreference.objects.filter(user=user, kind=kind)
        .values_list("send_email", flat=True)
        .first()
    )
    return True if choice is None else choice


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    send_email: bool


def email_preferences(user: Any) -> list[PreferenceRow]:
    """Every kind of notification with the user's choice (the default where none is stored)."""
    stored = dict(EmailPreference.objects.filter(user=user).values_list("kind", "send_email"))
    return [PreferenceRow(kind, str(label), stored.get(kind, True)) for kind, label in Kind.choices]
