"""Create (or find) a user and give them a role: for first setup and demos.

    manage.py create_user admin@dpi.example --role program_admin --org dpi --password ...
    manage.py create_user root@example.org --superuser --password ...

Without --password the person gets an email with a link to choose one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from microcred.orgs import services
from microcred.orgs.models import Organization, Role, User


class Command(BaseCommand):
    help = "Create a user (by email) and give them a role at an organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument("--org", help="slug of the organization")
        parser.add_argument("--password", help="otherwise an email invites them to set one")
        parser.add_argument("--superuser", action="store_true")

    def handle(
        self,
        *args: Any,
        email: str,
        role: str | None,
        org: str | None,
        password: str | None,
        superuser: bool,
        **options: Any,
    ) -> None:
        if bool(role) != bool(org):
            raise CommandError("Give both --role and --org, or neither.")
        organization = None
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization has the slug {org!r}.")
        email = email.strip().lower()
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            if user is None and (password or superuser):
                make = User.objects.create_superuser if superuser else User.objects.create_user
                user = make(email=email, password=password)
                services.record_audit(
                    services.SYSTEM, "user.created", user, data={"source": "create_user command"}
                )
                self.stdout.write(f"Created {email}.")
            if organization is not None and role is not None:
                try:
                    result = services.add_membership(
                        services.SYSTEM, organization, email=email, role=role
                    )
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
                self.stdout.write(
                    f"{email} is now {result.membership.get_role_display()} "
                    f"at {organization.name} ({result.outcome})."
                )
                if result.user_created:
                    self.stdout.write("An email invites them to choose a password.")
            elif user is None:
                raise CommandError("Nothing to do: give --password, --superuser or a role.")
