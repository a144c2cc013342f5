import itertools

import pytest

from marketplace import services

KEYS = itertools.count()


@pytest.fixture
def accepted_order(make_listing):
    """An order of `seller`'s bought by `buyer`, shipped and accepted, as the services make it."""

    def make(seller, buyer, **listing_fields):
        order = services.purchase_listing(
            buyer=buyer, listing=make_listing(seller, **listing_fields), idempotency_key=f"review-{next(KEYS)}"
        )
        services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
        return services.accept_order(order=order, actor=buyer)

    return make
