from typing import Any

from django.http import HttpRequest

from microcred.orgs.selectors import navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu a user sees follows from their roles."""
    return {"nav_items": navigation_for(request.user)}
