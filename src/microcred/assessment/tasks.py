"""Background work of assessment: the daily sweep of assignments."""

from __future__ import annotations

from django.tasks import task


@task()
def sweep_assignments() -> dict[str, int]:
    """Remind, expire and reassign (see services.sweep_assignments); returns the counts."""
    from .services import sweep_assignments as sweep

    result = sweep()
    return {
        "reminded": result.reminded,
        "expired": result.expired,
        "reassigned": result.reassigned,
        "assigned_waiting": result.assigned_waiting,
        "recalibration_due": result.recalibration_due,
    }
