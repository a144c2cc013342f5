"""Extension points of notifications for the apps whose objects they point at (registered in
their AppConfig.ready(); notifications never import them, see CONTRIBUTING: layers).

- `TARGETS`: `(viewer) -> queryset`: how an inbox loads the targets of one kind (one query per
  kind, prefetched); a target the queryset leaves out (hidden from the viewer) comes as null.
"""

from collections.abc import Callable

from django.db.models import QuerySet

from accounts.models import User

TARGETS: list[Callable[[User | None], QuerySet]] = []


def target_querysets(viewer: User | None) -> list[QuerySet]:
    return [targets(viewer) for targets in TARGETS]
