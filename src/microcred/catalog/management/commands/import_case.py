"""`manage.py import_case PATH [--dry-run]`: load a CASE 1.0 standards package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from microcred.catalog.case import CasePackageError, import_case_package, read_package_file


class Command(BaseCommand):
    help = (
        "Import a CASE 1.0 package (CFDocument, CFItems, CFAssociations) as a standards "
        "framework. Re-importing updates it in place; a file with errors changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The CASE package JSON file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change, without saving anything.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_case_package(
                read_package_file(options["path"]), dry_run=options["dry_run"]
            )
        except CasePackageError as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                f"{options['path']} was not imported: {len(exc.problems)} problem(s) above. "
                "Nothing was changed."
            ) from exc
        for line in report.summary_lines():
            self.stdout.write(line)
