"""Queue again the grade passbacks a platform refused or did not answer (run it hourly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.lti.tasks import retry_passbacks


class Command(BaseCommand):
    help = "Queue again the LTI grade passbacks that failed, up to their last try."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{retry_passbacks.call()} grade passback(s) queued again.")
