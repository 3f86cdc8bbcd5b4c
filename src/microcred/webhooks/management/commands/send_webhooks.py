"""`manage.py send_webhooks`: send every webhook delivery that is due (run it every minute,
for example from cron, where the task backend cannot run a task later; safe to repeat and to
run beside the workers: one sender per endpoint at a time). It also forgets finished events
older than MICROCRED_WEBHOOK_KEEP_DAYS (90), with their delivery logs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.webhooks.delivery import sweep
from microcred.webhooks.services import forget_old_events


class Command(BaseCommand):
    help = (
        "Send the webhook deliveries that are due, retries included, in order per endpoint; "
        "forget finished events older than MICROCRED_WEBHOOK_KEEP_DAYS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        attempts = sweep()
        forgotten = forget_old_events()
        self.stdout.write(
            f"Made {attempts} delivery attempt{'s' if attempts != 1 else ''}; "
            f"forgot {forgotten} old event{'s' if forgotten != 1 else ''}."
        )
