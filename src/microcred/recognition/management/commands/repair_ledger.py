"""`manage.py repair_ledger`: post what a crash or a lost task left unposted (run it daily,
for example from cron; safe to repeat: a credential is posted once, a revocation reversed
once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.recognition.posting import repair, unposted


class Command(BaseCommand):
    help = (
        "Post to the ledger the credentials, revocations and accepted external credentials "
        "never posted."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        issued, revoked, external = unposted(limit=None)
        entries = repair()
        self.stdout.write(
            f"Posted {len(issued)} issued credential(s), {len(external)} external one(s) and "
            f"{len(revoked)} revocation(s) that were waiting: {entries} ledger entries."
        )
