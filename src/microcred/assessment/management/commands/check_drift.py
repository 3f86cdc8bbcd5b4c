"""`manage.py check_drift`: the drift sweep (run it daily, for example from cron; each run is
safe to repeat: an assessor is flagged once, and only new reads can pause them)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.assessment.monitoring import sweep_drift


class Command(BaseCommand):
    help = "Flag assessors whose agreement drifted, pause those who keep drifting."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep_drift()
        self.stdout.write(
            f"Judged {result.judged} assessor and micro-credential pair(s): flagged "
            f"{result.flagged}, paused {result.paused}, cleared {result.cleared} after a passed "
            f"round, started {result.rounds_started} calibration round(s)."
        )
