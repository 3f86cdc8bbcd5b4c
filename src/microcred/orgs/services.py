"""Writes about people, organizations and roles."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent, Organization


def record_audit(
    actor: Any,
    action: str,
    target: models.Model,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    organization: Organization | None = None,
) -> AuditEvent:
    """Append who did what to which record, and why. Call inside the transaction of the change
    so the record and its audit event land together or not at all."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:255],
        organization=organization,
        reason=reason,
        data=data or {},
    )
