"""Who may see and act on a notification: only the person it was sent to."""

from __future__ import annotations

from typing import Any

import rules

from .models import Notification


@rules.predicate
def is_recipient(user: Any, notification: Notification | None) -> bool:
    return (
        isinstance(notification, Notification)
        and user.is_authenticated
        and notification.user_id == user.pk
    )


rules.add_perm("notifications.view_notification", is_recipient)
rules.add_perm("notifications.change_notification", is_recipient)
# Everyone signed in chooses their own emails.
rules.add_perm("notifications.change_emailpreference", rules.is_authenticated)
