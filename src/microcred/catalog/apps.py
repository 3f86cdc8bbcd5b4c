from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_migrate

FULLTEXT_MIGRATION = ("catalog", "0003_fulltext_search")


def _repair_fulltext(using: str = "default", **kwargs: Any) -> None:
    # On SQLite, a later migration that rebuilds the version table silently drops the search
    # triggers; putting them back (and reindexing) after every migrate keeps search in sync.
    from .search import install_fulltext

    connection = connections[using]
    if FULLTEXT_MIGRATION in MigrationRecorder(connection).applied_migrations():
        install_fulltext(connection)


class CatalogConfig(AppConfig):
    name = "microcred.catalog"
    label = "catalog"
    verbose_name = "Catalog and vetting"

    def ready(self) -> None:
        post_migrate.connect(_repair_fulltext, sender=self)
        # Connects the signals that retire cached search pages when the catalog changes, in
        # every process that writes (workers and commands too, not only those serving pages).
        from . import search  # noqa: F401
