"""One identity per person, step 2 of 3: fill the keys of existing rows.

Non-atomic: each batch of 1,000 rows is its own short transaction (accounts.identity.backfill_keys
locks only the rows of its batch), so sign-ups and logins go on meanwhile and a stop part-way
keeps what was done; running it again resumes with the rows still without keys.

Rows whose key an older row already holds (say `b0b` beside an older `bob`, or an email that
case-folds like another) get `<key>~<pk>`: they keep logging in by their exact username or email,
and are listed here for staff to ask them to pick another name.
"""

from django.db import migrations

from accounts.identity import backfill_keys


def fill(apps, schema_editor):
    collided = backfill_keys(apps.get_model("accounts", "User"))
    for pk, field, key in collided:
        print(f"\n  accounts.User {pk}: {field} looked like an older account's; kept apart as {key!r}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("accounts", "0002_identity_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
