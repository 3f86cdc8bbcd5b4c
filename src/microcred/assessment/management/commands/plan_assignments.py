"""`manage.py plan_assignments`: plan the whole backlog now (the scoring leads' "Plan the whole
backlog now" button; the daily `sweep_assignments` runs the same batch)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from microcred.assessment.services import plan_backlog


class Command(BaseCommand):
    help = "Assign every waiting read, re-planning assignments nobody has opened yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep", action="store_true", help="Leave unopened assignments where they are."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = plan_backlog(replan=not options["keep"])
        self.stdout.write(
            f"Assigned {len(result.assigned)} read(s), moved {result.moved}, "
            f"{len(result.unassigned)} still waiting."
        )
        for reason, count in sorted(Counter(result.unassigned.values()).items()):
            self.stdout.write(f"  {count} waiting: {reason}")
