"""python manage.py rotate_issuer_key SLUG --reason "..." : give an issuer a new signing key.

For scheduled rotation or after a suspected leak. The old key stays published so credentials
it signed keep verifying; the change is audited (as the system).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from microcred.credentials import services
from microcred.credentials.models import IssuerProfile


class Command(BaseCommand):
    help = "Replace an issuer's signing key; earlier keys keep verifying what they signed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The issuer's short name, as in /issuers/<slug>/.")
        parser.add_argument(
            "--reason", default="Scheduled key rotation", help="Recorded in the audit log."
        )

    def handle(self, *args: Any, slug: str, reason: str, **options: Any) -> None:
        profile = IssuerProfile.objects.filter(slug=slug).first()
        if profile is None:
            known = ", ".join(IssuerProfile.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No issuer {slug!r}. Issuers: {known}.")
        try:
            key = services.rotate_key(profile, reason=reason)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{profile.name} now signs with {key.fragment} ({key.public_key_multibase})."
            )
        )
