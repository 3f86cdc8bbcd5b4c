"""`manage.py sweep_assignments`: due-soon reminders, expiry and reassignment (run it daily,
for example from cron; each run is safe to repeat: a reminder goes out once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.assessment.services import sweep_assignments


class Command(BaseCommand):
    help = "Remind assessors two days before the due date, expire missed assignments, reassign."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep_assignments()
        self.stdout.write(
            f"Reminded {result.reminded}, expired {result.expired}, reassigned "
            f"{result.reassigned}, assigned {result.assigned_waiting} waiting read(s); "
            f"{result.recalibration_due} qualification(s) fell due for recalibration."
        )
