"""`manage.py clean_uploads --days 7`: discard uploads abandoned half way (run it daily)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from microcred.earning.uploads.services import clean_abandoned_uploads


class Command(BaseCommand):
    help = "Discard unfinished uploads (and their stored parts) with no progress for N days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="Days without progress (7).")

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        if days < 1:
            self.stderr.write("--days must be at least 1.")
            return
        count = clean_abandoned_uploads(timedelta(days=days))
        self.stdout.write(f"Discarded {count} abandoned upload(s).")
