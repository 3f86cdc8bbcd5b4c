"""Background work of license renewal: the daily reminders."""

from __future__ import annotations

from django.tasks import task


@task()
def send_renewal_reminders() -> int:
    """Daily: remind educators whose renewal cycle ends within 12, 6, 3 or 1 months and who
    have not banked enough yet; once per threshold. The number of reminders sent."""
    from .renewal import send_reminders

    return send_reminders()
