"""Extension points of the marketplace for the apps built on it.

The marketplace sits below social, discovery, live and sellers (CONTRIBUTING: layers): it never
imports them. Where they change what it does, they register here in their AppConfig.ready(), as
with `pricing.DISCOUNT_RULES` and `events.subscribe`:

    from marketplace import hooks

    hooks.PRICE_CHANGE.append(services.on_price_change)

- `PRICE_CHANGE`: `(listing, change) -> outcome | None`, run inside update_listing's transaction
  with the listing locked, after the change is recorded; update_listing returns the outcomes
  (e.g. the price-drop notice sellers made), so nobody re-reads what a hook did.
- `LISTING_CARD_ANNOTATIONS`: `(viewer, now) -> {name: expression}`: what every listing card
  carries beyond the marketplace's own fields (has the viewer liked it, a first-sale banner).
- `MEMBER_ANNOTATIONS`: `(users, viewer) -> users`: how members show on cards, orders and offers
  (follow counts).
- `ORDER_CARD_PREFETCHES`: `(viewer) -> Prefetch`: what every order carries beyond the
  marketplace's own (its review, its case, its parcels), fetched once for a whole list of orders.
- `HIDDEN_SELLERS`: `(viewer) -> queryset of seller ids`: closets a viewer must not see (blocks).
- `DEALING_BARRED`: `(buyer_id, seller_id) -> bool`: members who may not trade with each other.
- `ACCEPTANCE_HELD`: `(order) -> str | None`: why the platform must not accept an order for its
  buyer yet (an open case), run with the order locked; `release_order` (staff) ignores it.
"""

from collections.abc import Callable

from django.db.models import QuerySet

PRICE_CHANGE: list[Callable] = []
LISTING_CARD_ANNOTATIONS: list[Callable] = []
MEMBER_ANNOTATIONS: list[Callable] = []
ORDER_CARD_PREFETCHES: list[Callable] = []
HIDDEN_SELLERS: list[Callable] = []
DEALING_BARRED: list[Callable[[int, int], bool]] = []
ACCEPTANCE_HELD: list[Callable] = []


def card_annotations(viewer, now) -> dict:
    return {name: value for annotate in LISTING_CARD_ANNOTATIONS for name, value in annotate(viewer, now).items()}


def members_as_shown(users: QuerySet, viewer) -> QuerySet:
    for annotate in MEMBER_ANNOTATIONS:
        users = annotate(users, viewer)
    return users


def order_card_prefetches(viewer) -> list:
    return [prefetch(viewer) for prefetch in ORDER_CARD_PREFETCHES]


def hidden_seller_ids(viewer) -> list[QuerySet]:
    return [hidden(viewer) for hidden in HIDDEN_SELLERS]


def dealing_barred(buyer_id: int, seller_id: int) -> bool:
    return any(barred(buyer_id, seller_id) for barred in DEALING_BARRED)


def acceptance_hold(order) -> str | None:
    """The first reason a hook gives to keep the order's funds held, or None."""
    return next((reason for held in ACCEPTANCE_HELD if (reason := held(order))), None)
