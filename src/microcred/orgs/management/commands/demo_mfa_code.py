"""Print the current code of the demo authenticator app, for signing in to the privileged demo
accounts (README.md) without setting up an app. It knows only the published demo secret, so
it opens nothing in a real installation."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings
from django.core.management.base import BaseCommand

from microcred.orgs.demo import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-step sign-in code of the demo accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        period = app_settings.TOTP_PERIOD
        left = period - int(time.time()) % period
        self.stdout.write(demo_totp_code())
        self.stdout.write(
            f"Valid for {left} more seconds (secret {DEMO_TOTP_SECRET}, for demo accounts only).",
        )
