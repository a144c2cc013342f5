"""What "delete my account" and "export my data" mean for each app's data.

Accounts is the lowest layer: it cannot import the apps above it. Each of them registers, in its
`AppConfig.ready()`, the part of a member's data it holds:

    hooks.register("marketplace", export=..., erase=..., check_deletion=...)

- `check_deletion(user)` raises a `ServiceError` when the account cannot go yet (an order in
  progress, a show on air); it runs inside the deletion's transaction, before anything changes.
- `erase(user)` removes or anonymises the app's personal data of `user`, in the same transaction,
  keeping what the other party of an order (and the law) needs. It runs before accounts anonymises
  the user row itself, the upper apps first.
- `export(user)` returns a JSON-serialisable dict: the app's section of the member's export.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountDataHook:
    app: str
    export: Callable | None = None
    erase: Callable | None = None
    check_deletion: Callable | None = None


_HOOKS: dict[str, AccountDataHook] = {}


def register(
    app: str, *, export: Callable | None = None, erase: Callable | None = None, check_deletion: Callable | None = None
) -> None:
    """Offer an app's part (once per app: registering again replaces it, so a reload is harmless)."""
    _HOOKS[app] = AccountDataHook(app, export, erase, check_deletion)


def registered() -> list[AccountDataHook]:
    """In registration order, which follows INSTALLED_APPS: lower apps first."""
    return list(_HOOKS.values())
