from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import unread_count_for_request


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count the header shows to signed-in people."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"unread_notification_count": unread_count_for_request(request)}
