"""Background work of notifications: the email copy of a notification."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Notification


def email_context(notification: Notification) -> dict[str, object]:
    # The link goes through our "open" view so that following it marks the notification read.
    open_path = reverse("notifications:open", args=[notification.pk])
    return {
        "notification": notification,
        "user": notification.user,
        "link": f"{settings.SITE_URL}{open_path}",
        "preferences_link": f"{settings.SITE_URL}{reverse('notifications:preferences')}",
    }


@task()
def send_notification_email(notification_id: int) -> bool:
    """Email one notification; True if it was sent now. Runs at most once per notification:
    the row is claimed by setting emailed_at before sending, and released if sending fails so
    a retry can send it."""
    claimed_at = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=claimed_at
    )
    if not claimed:
        return False  # already emailed (or deleted): a retried task does nothing
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    context = email_context(notification)
    message = EmailMultiAlternatives(
        subject=notification.title,
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=None,
        to=[notification.user.email],
    )
    message.attach_alternative(
        render_to_string("notifications/email/notification.html", context), "text/html"
    )
    try:
        message.send()
    except Exception:
        Notification.objects.filter(pk=notification_id, emailed_at=claimed_at).update(
            emailed_at=None
        )
        raise
    return True
