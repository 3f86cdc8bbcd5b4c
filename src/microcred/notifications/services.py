"""Telling people what happened: in the product, and by email where they want it.

Other apps call `notify` when something happens to someone (a submission was received, a
score came in, ...). It is safe to call twice for the same event: the dedupe key makes the
second call a no-op, so retried tasks and double-clicked buttons never notify twice.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import selectors
from .models import EmailPreference, Kind, Notification


def notify(
    user: Any, kind: str, *, title: str, body: str = "", url: str = "", dedupe_key: str
) -> Notification | None:
    """Record the notification once per (user, dedupe_key) and, if the user wants this kind
    by email, send it after the surrounding transaction commits. Returns None when the same
    event was already notified."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown notification kind: {kind!r}")
    if not dedupe_key:
        raise ValueError("A dedupe key is required, so the same event never notifies twice.")
    try:
        # A savepoint, so a duplicate does not spoil the caller's transaction.
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:500],
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        return None
    if user.email and selectors.wants_email(user, kind):
        from .tasks import send_notification_email

        # After commit: the worker must find the row, and a rolled-back event sends nothing.
        transaction.on_commit(lambda: send_notification_email.enqueue(notification.pk))
    return notification


def mark_read(user: Any, notification: Notification) -> bool:
    """Mark one of the user's notifications read; False if it already was (a second click)."""
    updated = Notification.objects.filter(
        pk=notification.pk, user=user, read_at__isnull=True
    ).update(read_at=timezone.now())
    return bool(updated)


def mark_all_read(user: Any) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def save_email_preferences(user: Any, emailed_kinds: set[str]) -> None:
    """Store the user's choice for every kind: email for those in `emailed_kinds`."""
    unknown = emailed_kinds - set(Kind.values)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {sorted(unknown)}")
    with transaction.atomic():
        for kind in Kind.values:
            EmailPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"send_email": kind in emailed_kinds}
            )
