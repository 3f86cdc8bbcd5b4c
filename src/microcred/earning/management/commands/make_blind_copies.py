"""`manage.py make_blind_copies`: queue the assessors' copies (metadata stripped) of the
recordings, pictures and documents that have none, such as those uploaded before these copies
existed.
Run it once after upgrading; until a file has its copy, assessors are told it is being
prepared and never get the original."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.earning.tasks import queue_missing_blind_copies


class Command(BaseCommand):
    help = "Queue metadata-free assessor copies for recordings, pictures and documents lacking one."

    def handle(self, *args: Any, **options: Any) -> None:
        count = queue_missing_blind_copies()
        self.stdout.write(f"Queued {count} upload(s) for their assessors' copy.")
