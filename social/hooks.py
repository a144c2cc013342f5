"""Extension points of the social graph for the apps built on it (registered in their
AppConfig.ready(); social never imports them, see CONTRIBUTING: layers).

- `CLOSET_VISIT`: `(visit) -> None`, run in record_closet_visit's transaction when a visit is
  first recorded (sellers schedules its auto-greeting).
"""

from collections.abc import Callable

CLOSET_VISIT: list[Callable] = []
