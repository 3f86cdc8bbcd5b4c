"""`manage.py send_followup_surveys`: ask earners again, some months after their award, whether
what they learned still serves them and their students (run it daily, for example from cron;
each run is safe to repeat: one follow-up per credential)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.insights.surveys import followup_months
from microcred.insights.tasks import send_followup_surveys


class Command(BaseCommand):
    help = (
        "Send the follow-up Guskey survey for credentials awarded "
        "MICROCRED_SURVEY_FOLLOWUP_MONTHS (default 6) months ago."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_followup_surveys.call()
        self.stdout.write(
            f"Sent {sent} follow-up survey{'s' if sent != 1 else ''} "
            f"({followup_months()} months after the award)."
        )
