"""Real threads on PostgreSQL: a single-quantity listing is sold exactly once, whatever the concurrency."""

import threading

import pytest
from django.db import connection

from config.errors import ServiceError
from marketplace import services
from marketplace.models import Listing, Order, Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls):
    """Run every call at once on its own thread and connection; (results, errors) in call order."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_fifty_buyers_racing_for_one_item_make_one_order(make_user, make_buyer, make_listing, provider):
    seller, _ = make_user("seller")
    listing = make_listing(seller)
    buyers = [make_buyer(f"buyer{index}")[0] for index in range(50)]
    results, errors = race([
        lambda buyer=buyer: services.purchase_listing(buyer=buyer, listing=listing, idempotency_key="k")
        for buyer in buyers])
    orders = [result for result in results if result is not None]
    assert len(orders) == 1
    assert sorted(type(error).__name__ for error in errors if error) == ["ServiceError"] * 49
    assert {error.errors[0].code.name for error in errors if isinstance(error, ServiceError)} == {"SOLD_OUT"}
    assert Order.objects.count() == 1 and Payment.objects.get().order == orders[0]
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.SOLD, 0)
    # The 49 losers' authorizations were all released.
    assert provider.operations().count("authorize") == 50
    assert provider.operations().count("void") == 49
