"""`manage.py load_demo [--if-new]`: the demo state, organizations, people, catalog and earned
credentials.

It lives in the web app because it spans apps (orgs, catalog, then earning, assessment and
credentials). All of it happens in one
transaction: a failure part-way leaves the database as it was.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from microcred.catalog.demo import load_catalog
from microcred.orgs.demo import ACCOUNTS, load_organizations_and_people
from microcred.orgs.models import Organization, Role, User
from microcred.recognition.demo import load_recognition, post_revocations
from microcred.web.demo_credentials import load_credentials, revoke_planned
from microcred.web.demo_scoring import load_scoring
from microcred.web.demo_supports import load_supports


class Command(BaseCommand):
    help = (
        "Load the demo: a state with districts and schools, providers, one account per role "
        "and a catalog of micro-credentials in every vetting state. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-new",
            action="store_true",
            help="Do nothing if the database already has users or organizations "
            "(what `make run` uses, so a real installation is never touched).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_new"] and (User.objects.exists() or Organization.objects.exists()):
            self.stdout.write(
                "The database already has users or organizations; the demo was not loaded. "
                "Run `manage.py load_demo` without --if-new to add what is missing."
            )
            return
        with transaction.atomic():
            world = load_organizations_and_people()
            catalog = load_catalog(world)
            earned = load_credentials(world)
            scoring = load_scoring(world)
            recognition = load_recognition(world)
            revoke_planned(world, earned)
            recognition.entries += post_revocations()
            people_around = load_supports(world)
        self.stdout.write(
            f"Demo loaded: {len(world.organizations)} organizations, "
            f"{len(world.people)} accounts, standards: {', '.join(catalog.standards)}."
        )
        self.stdout.write(
            f"Micro-credentials: {len(catalog.micro_credentials_created)} created, "
            f"{len(catalog.micro_credentials_present)} already present. "
            f"Stacks: {len(catalog.stacks_created)} created, "
            f"{len(catalog.stacks_present)} already present."
        )
        self.stdout.write(
            f"Credentials: {len(earned.issued)} issued, {len(earned.present)} already present; "
            f"stack credentials: {', '.join(earned.stacks) or 'none new'}; "
            f"revoked: {len(earned.revoked)}."
        )
        self.stdout.write(f"Scoring: {scoring}.")
        self.stdout.write(
            f"Recognition: {len(recognition.policies)} policies created, "
            f"{recognition.approvals} approvals for use, {recognition.licenses} licenses, "
            f"{recognition.entries} ledger entries posted."
        )
        self.stdout.write(f"Around the earners: {people_around}.")
        self.stdout.write("Demo sign-ins (email / password / role):")
        for account in ACCOUNTS:
            role = Role(account.role).label if account.role else "Site administrator"
            where = (
                f" at {world.organizations[account.organization].name}"
                if (account.organization)
                else ""
            )
            self.stdout.write(f"  {account.email} / {account.password} / {role}{where}")
