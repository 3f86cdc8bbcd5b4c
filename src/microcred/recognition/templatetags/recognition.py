"""Recognition's pieces for other apps' pages: `{% load recognition %}`, then
`{% renewal_progress user %}` (the license renewal bar, nothing without a license) or
`{% credential_renewal credential user %}` (what one credential added toward renewal)."""

from __future__ import annotations

from typing import Any

from django import template

from ..renewal import credential_contribution, renewal_progress

register = template.Library()


@register.inclusion_tag("recognition/_renewal_progress.html", name="renewal_progress")
def renewal_progress_tag(user: Any) -> dict[str, Any]:
    return {"progress": renewal_progress(user)}


@register.inclusion_tag("recognition/_renewal_progress.html")
def credential_renewal(credential: Any, user: Any) -> dict[str, Any]:
    """For the credential's own earner only: what it added toward their renewal, and their
    progress."""
    if not getattr(user, "is_authenticated", False) or credential.earner_id != user.pk:
        return {"progress": None}
    progress = renewal_progress(user)
    added = credential_contribution(credential)
    counted = progress is not None and (
        progress.cycle.starts_on <= credential.issued_at.date() <= progress.cycle.ends_on
    )
    return {"progress": progress, "added": added if counted else None}
