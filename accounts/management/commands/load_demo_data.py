"""Load demo data once: each app may have a `demo` module with `load(stdout)`, run in app order.

Every loader must be idempotent (get_or_create by natural keys), so `make run` can call this on
each start. A loader writes one line of what it did; a `ROLES` dict of its module (username → what
that account shows) is printed with the demo accounts at the end.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, DEMO_USERS, STAFF


class Command(BaseCommand):
    help = "Create demo users, closets, listings, shows and community programs (idempotent)."

    def handle(self, *args, **options):
        roles: dict[str, list[str]] = {}
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if find_spec(module_name) is None:
                continue
            module = import_module(module_name)
            with transaction.atomic():
                module.load(self.stdout)
            for username, role in getattr(module, "ROLES", {}).items():
                roles.setdefault(username, []).append(role)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts, each with the password {DEMO_PASSWORD!r}:"))
        for username in [STAFF, *(username for username, *_ in DEMO_USERS)]:
            self.stdout.write(f"  {username:<6} {'; '.join(roles.get(username, ['a member']))}")
