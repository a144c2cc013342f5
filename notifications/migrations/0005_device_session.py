"""A device remembers the session that registered it (notifications.services.register_device).

A nullable column with no default: a catalog change on PostgreSQL, no rewrite of the table. Rows
from before keep a null session and are held while their user has any live session."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("notifications", "0004_kinds_cohost_invite_auction_won"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="push_devices",
                to="accounts.authtoken",
            ),
        ),
    ]
