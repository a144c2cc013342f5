"""One identity per person, step 3 of 3: the keys unique and required.

Rows saved by the previous release while 0003 ran are filled first (same batches). Then on
PostgreSQL each key's unique index is built CONCURRENTLY and attached as the constraint, and NOT
NULL is set through a validated CHECK, so no step holds a lock that stops reads or writes for a
scan of the table (config.migration_operations.MakeUniqueAndRequired). On SQLite it is a plain
AlterField. Non-atomic, as CONCURRENTLY runs outside a transaction.
"""

from django.db import migrations

import accounts.identity
from accounts.identity import backfill_keys
from config.migration_operations import MakeUniqueAndRequired


def fill(apps, schema_editor):
    backfill_keys(apps.get_model("accounts", "User"))


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("accounts", "0003_backfill_identity_keys")]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        MakeUniqueAndRequired(
            model_name="user",
            name="username_key",
            field=accounts.identity.KeyField(
                max_length=150, unique=True, normaliser="accounts.identity.username_key", source="username"
            ),
        ),
        MakeUniqueAndRequired(
            model_name="user",
            name="email_key",
            field=accounts.identity.KeyField(
                max_length=320, unique=True, normaliser="accounts.identity.email_key", source="email"
            ),
        ),
    ]
