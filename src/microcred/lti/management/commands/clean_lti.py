"""Forget expired LTI sign-in states, new-tab links and deep-linking requests (run daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from microcred.lti.services import forget_expired


class Command(BaseCommand):
    help = "Delete expired LTI sign-in states, new-tab links and deep-linking requests."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = forget_expired()
        self.stdout.write(", ".join(f"{n} {what}" for what, n in counts.items()) + " deleted.")
