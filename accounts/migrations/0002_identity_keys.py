"""One identity per person, step 1 of 3: the key columns, nullable and without an index.

Adding a nullable column with no default is a catalog change on PostgreSQL (no table rewrite, a
lock held for milliseconds), so this is safe on a big, busy accounts table. Code of this release
fills the keys of every row it saves (accounts.identity.KeyField); 0003 fills the older rows in
batches and 0004 makes the keys unique and required without a long lock.
"""

from django.db import migrations

import accounts.identity


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=accounts.identity.KeyField(
                max_length=150, null=True, normaliser="accounts.identity.username_key", source="username"
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=accounts.identity.KeyField(
                max_length=320, null=True, normaliser="accounts.identity.email_key", source="email"
            ),
        ),
    ]
