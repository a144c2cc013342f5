"""Extension points of cases.

- `RETURN_LABEL`: `(order) -> str | None`: buys a prepaid return label for an order refunded by a
  case and gives its URL (the carrier's app registers it: shipping's `buy_return_label`). Run
  after the refund committed (a task, retried by the carrier's app as it sees fit); the first
  URL given is kept. With none registered the case says so and staff arrange the return.
"""

from collections.abc import Callable

RETURN_LABEL: list[Callable] = []


def return_label_url(order) -> str | None:
    return next((url for buy in RETURN_LABEL if (url := buy(order))), None)
