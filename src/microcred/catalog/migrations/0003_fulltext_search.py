"""Full-text search over published versions: an FTS5 table kept in sync by triggers on SQLite,
a GIN expression index on PostgreSQL. The statements live in catalog/search.py next to the
queries that must match them."""

from django.db import migrations


def install(apps, schema_editor):
    from microcred.catalog.search import install_fulltext

    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        install_fulltext(schema_editor.connection)


def remove(apps, schema_editor):
    from microcred.catalog.search import remove_fulltext

    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        remove_fulltext(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_vocabularies_and_quality_criteria")]
    operations = [migrations.RunPython(install, remove)]
