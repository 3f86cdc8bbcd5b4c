"""Make an API token for a person and print its secret: for setting up an integration (an LMS,
a district's HR system) or a deployment check, where nobody signs in to the token page.

    manage.py create_api_token hr-sync@district.example --name "HR sync"

The secret is printed once, on standard output alone, so a script can capture it; only its
hash is stored. The token acts as that person, with their roles, and is audited like one made
on the page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from microcred.orgs.models import User
from microcred.orgs.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for a user (by email) and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="what will use it, e.g. 'HR sync'")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user has the email {email!r}.")
        try:
            _token, secret = create_token(user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(secret)
