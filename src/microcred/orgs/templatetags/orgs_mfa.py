"""What the MFA pages need to know about the person looking at them."""

from __future__ import annotations

from typing import Any

from django import template

from microcred.orgs import mfa

register = template.Library()


@register.simple_tag(takes_context=True)
def mfa_setup_pending(context: dict[str, Any]) -> bool:
    """True while the person's role requires a second factor they have not set up yet."""
    request = context.get("request")
    return request is not None and mfa.setup_pending(request)


@register.simple_tag
def mfa_setup_message() -> str:
    return mfa.SETUP_MESSAGE
