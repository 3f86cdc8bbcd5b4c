"""`manage.py send_renewal_reminders`: remind educators as their license renewal cycle ends
(run it daily, for example from cron; each run is safe to repeat: a reminder goes out once
per cycle and threshold)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.recognition.tasks_renewal import send_renewal_reminders


class Command(BaseCommand):
    help = "Remind educators 12, 6, 3 and 1 months before their renewal cycle ends."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_renewal_reminders.call()
        self.stdout.write(f"Sent {sent} renewal reminder{'s' if sent != 1 else ''}.")
