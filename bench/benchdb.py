"""The throwaway database every benchmark runs against, shared by the scripts in bench/."""

from __future__ import annotations

import os
from pathlib import Path


def configure(tmp: Path) -> None:
    """Point Django at a throwaway database in `tmp` before it is set up: a SQLite file there,
    or, with DATABASE_URL set, a separate test database on that server."""
    os.environ["MICROCRED_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microcred.settings")
    using_server = "DATABASE_URL" in os.environ
    if not using_server:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    import django

    django.setup()
    if not using_server:
        from django.db import connection

        # The test database is a file too (not SQLite's default in-memory one), as in production.
        connection.settings_dict["TEST"]["NAME"] = str(tmp / "bench-test.sqlite3")
