"""The full-text GIN index, on PostgreSQL only (SQLite searches with icontains, see marketplace.search)."""

from django.db import migrations

from marketplace.search import search_index


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("marketplace", "Listing"), search_index())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("marketplace", "Listing"), search_index())


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_seed_categories")]

    operations = [migrations.RunPython(create, drop)]
