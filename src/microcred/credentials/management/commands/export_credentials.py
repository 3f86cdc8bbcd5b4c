"""python manage.py export_credentials DIR : write every issued credential as DIR/<uuid>.json.

For backups and wallets. The files are the signed documents exactly as stored (revoked ones
included: their status list says so). Re-running rewrites a file only when its content differs,
so an export directory can be refreshed in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from microcred.credentials import selectors


def credential_file_text(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write every issued credential as <uuid>.json into a directory (created if missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Where to write the files.")

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot create {directory}: {error.strerror}.") from error
        written = unchanged = 0
        for uuid, document in selectors.all_issued().values_list("uuid", "document").iterator():
            path = directory / f"{uuid}.json"
            text = credential_file_text(document)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                unchanged += 1
                continue
            # Write beside, then rename: an interrupted export never leaves half a file.
            partial = path.with_suffix(".json.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
            written += 1
        self.stdout.write(
            f"{written} credential file(s) written, {unchanged} already up to date, in {directory}."
        )
