"""What a district's program settings mean on other apps' pages (orgs.programs decides)."""

from __future__ import annotations

from typing import Any

from django import template

from microcred.catalog.models import MicroCredential
from microcred.orgs import programs
from microcred.orgs.models import Organization

register = template.Library()


@register.simple_tag
def funding_leas(user: Any, micro_credential: MicroCredential) -> list[Organization]:
    """The districts of this earner that fund the micro-credential (none for visitors)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return programs.funding_leas(user, micro_credential)
