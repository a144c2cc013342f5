"""One identity per person: the stored keys that usernames and emails are compared by.

A username's key is what it looks like (config.textfold.fold: NFKC, invisible characters
removed, case-folded, confusable letters mapped), so `priya`, `PRIYA`, `prıya` (dotless ı),
`prіya` (Cyrillic і) and fullwidth `ｐｒｉｙａ` are one key: one account, one login limit, and a
look-alike of a taken name cannot be registered. An email's key is NFKC and case-folding only
(config.textfold.fold_case): look-alike addresses are different mailboxes.

Keys are stored (User.username_key, User.email_key, unique) and every lookup and login-limit key
goes through them. `KeyField` derives its value from its source field whenever the row is saved
or bulk-created; `User.save(update_fields=[...])` adds the keys of the fields it names.
"""

from django.db import models
from django.utils.module_loading import import_string

from config.textfold import fold, fold_case

# Rows whose key collided with an older row's when keys were first computed keep the older key
# with `~<pk>` after it (accounts/migrations/0003): they still log in by their exact username.
LEGACY_SEPARATOR = "~"


def username_key(username: str) -> str:
    return fold(username.strip())


def email_key(email: str) -> str:
    return fold_case(email.strip())


def identifier_key(identifier: str) -> str:
    """The key a login identifier (a username, or an email when it has an @) is looked up by."""
    return email_key(identifier) if "@" in identifier else username_key(identifier)


def user_for_identifier(identifier: str):
    """The member a username or email names, by key (the exact username first, for the rare
    legacy row whose key had to take a suffix); None if nobody."""
    from accounts.models import User

    identifier = identifier.strip()
    if not identifier:
        return None
    if "@" in identifier:
        return (
            User.objects.filter(email=identifier).first()
            or User.objects.filter(email_key=email_key(identifier)).first()
        )
    return (
        User.objects.filter(username=identifier).first()
        or User.objects.filter(username_key=username_key(identifier)).first()
    )


def user_for_email(email: str):
    """The member with this email address (any case or compatibility form); None if nobody."""
    return user_for_identifier(email) if "@" in email else None


class KeyField(models.CharField):
    """A key derived from another field of the row by a folding function (a dotted path)."""

    def __init__(self, *args, source: str, normaliser: str, **kwargs):
        self.source, self.normaliser = source, normaliser
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs |= {"source": self.source, "normaliser": self.normaliser}
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def key_of(self, instance) -> str:
        return import_string(self.normaliser)(getattr(instance, self.source) or "")[: self.max_length]

    def pre_save(self, instance, add):
        key = self.key_of(instance)
        current = getattr(instance, self.attname) or ""
        if current.partition(LEGACY_SEPARATOR)[0] != key or LEGACY_SEPARATOR not in current:
            setattr(instance, self.attname, key)
        return getattr(instance, self.attname)


def backfill_keys(User, *, batch_size: int = 1000) -> list[tuple[int, str, str]]:
    """Fill the keys of rows that have none, one short transaction per batch of `batch_size`
    (for migrations: `User` may be the historical model). A row whose key an older row already
    holds gets `<key>~<pk>`; they are returned as (pk, field, key) for staff to look at."""
    from django.db import transaction
    from django.db.models import Q

    fields = (("username_key", "username", username_key), ("email_key", "email", email_key))
    collided, last = [], 0
    while True:
        with transaction.atomic():
            rows = list(
                User.objects.filter(Q(username_key__isnull=True) | Q(email_key__isnull=True), pk__gt=last)
                .order_by("pk")
                .select_for_update()
                .only("pk", "username", "email", "username_key", "email_key")[:batch_size]
            )
            if not rows:
                return collided
            for field, source, normalise in fields:
                wanted = {row.pk: normalise(getattr(row, source) or "") for row in rows if getattr(row, field) is None}
                taken = set(
                    User.objects.filter(**{f"{field}__in": set(wanted.values())})
                    .exclude(pk__in=list(wanted))
                    .values_list(field, flat=True)
                )
                for row in rows:
                    if row.pk not in wanted:
                        continue
                    key = wanted[row.pk]
                    if key in taken:
                        key = f"{key}{LEGACY_SEPARATOR}{row.pk}"
                        collided.append((row.pk, field, key))
                    taken.add(key)
                    setattr(row, field, key)
            User.objects.bulk_update(rows, ["username_key", "email_key"])
            last = rows[-1].pk
