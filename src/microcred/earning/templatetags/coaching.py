"""The coaches' comments on an earner's attempt page, without touching that page's view."""

from __future__ import annotations

from typing import Any

from django import template

from microcred.earning import coaching
from microcred.earning.models import Attempt

register = template.Library()


@register.simple_tag(takes_context=True)
def earner_comments(context: dict[str, Any], attempt: Attempt) -> coaching.EarnerComments | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return None
    return coaching.earner_comments(user, attempt)
