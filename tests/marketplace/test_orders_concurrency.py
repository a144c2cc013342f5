"""Real threads on PostgreSQL, through the API: a single-quantity listing is sold exactly once."""

from decimal import Decimal

import pytest

from marketplace import services
from marketplace.models import DomainEvent, IdempotencyKey, Listing, Offer, Order, OrderLine, Payment
from tests.conftest import GraphQLClient
from tests.helpers import gid, race
from tests.marketplace.checkout_api import PURCHASE, RESPOND

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_purchase(token, listing, key):
    variables = {"input": {"listingId": gid(listing), "idempotencyKey": key}}
    return lambda: GraphQLClient()(PURCHASE, variables, token=token)["data"]["purchaseListing"]


def assert_sold_once(listing, provider):
    """One order holds the item, its payment captured; every other authorization was released."""
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.SOLD, 0)
    assert OrderLine.objects.filter(listing=listing).count() == 1
    assert Payment.objects.get().status == Payment.Status.CAPTURED
    operations = provider.operations()
    assert operations.count("authorize") - operations.count("void") == 1


def test_fifty_buyers_racing_for_one_item_make_one_order_and_49_typed_errors(
    make_user, make_buyer, make_listing, provider
):
    seller, _ = make_user("seller")
    listing = make_listing(seller)
    tokens = [make_buyer(f"buyer{index}")[1] for index in range(50)]
    payloads = race([post_purchase(token, listing, f"key-of-buyer-{index}") for index, token in enumerate(tokens)])
    winners = [payload for payload in payloads if payload["order"]]
    assert len(winners) == 1 and winners[0]["errors"] == []
    assert (
        sorted(str(payload["errors"]) for payload in payloads if not payload["order"])
        == [str([{"field": "listingId", "code": "SOLD_OUT"}])] * 49
    )
    assert Order.objects.count() == 1
    assert_sold_once(listing, provider)


def test_fifty_concurrent_retries_of_one_key_make_one_order_and_identical_responses(
    make_user, make_buyer, make_listing, provider
):
    seller, _ = make_user("seller")
    listing = make_listing(seller)
    _, token = make_buyer("buyer")
    payloads = race([post_purchase(token, listing, "the-one-key-0001")] * 50)
    assert payloads[0]["errors"] == [] and payloads[0]["order"]["status"] == "PAID"
    assert all(payload == payloads[0] for payload in payloads)
    assert Order.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    assert_sold_once(listing, provider)


def test_offers_accepted_while_their_items_are_bought_have_one_winner_each(
    make_user, make_buyer, make_listing, provider
):
    seller, seller_token = make_user("seller")
    offerer, _ = make_buyer("offerer")
    _, shopper_token = make_buyer("shopper")
    listings = [make_listing(seller, title=f"Item {index}", price="40.00") for index in range(10)]
    offers = [services.create_offer(buyer=offerer, listing=listing, amount=Decimal("30.00")) for listing in listings]
    calls = []
    for index, (listing, offer) in enumerate(zip(listings, offers, strict=False)):
        accept = {"input": {"offerId": gid(offer), "action": "ACCEPT"}}
        calls.append(
            lambda accept=accept: GraphQLClient()(RESPOND, accept, token=seller_token)["data"]["respondToOffer"]
        )
        calls.append(post_purchase(shopper_token, listing, f"shopper-key-{index:04}"))
    results = race(calls)
    for listing, offer, accepted, bought in zip(listings, offers, results[::2], results[1::2], strict=False):
        offer.refresh_from_db()
        if offer.status == Offer.Status.ACCEPTED:
            assert accepted["offer"]["order"]["status"] == "PAID" and accepted["errors"] == []
            assert bought == {"order": None, "errors": [{"field": "listingId", "code": "SOLD_OUT"}]}
        else:
            assert offer.status == Offer.Status.CANCELLED  # the item sold to the shopper
            assert bought["order"]["status"] == "PAID"
            # Refused before or after the sale committed: either way, nothing changed.
            assert accepted["offer"] is None and accepted["errors"] in (
                [{"field": "listingId", "code": "SOLD_OUT"}],
                [{"field": "offerId", "code": "OFFER_NOT_PENDING"}],
            )
        listing.refresh_from_db()
        assert (listing.status, listing.quantity) == (Listing.Status.SOLD, 0)
        assert OrderLine.objects.filter(listing=listing).count() == 1
    assert Order.objects.count() == 10
    assert set(Payment.objects.values_list("status", flat=True)) == {Payment.Status.CAPTURED}
    operations = provider.operations()
    assert operations.count("authorize") - operations.count("void") == 10


def test_orders_racing_for_a_new_sellers_items_make_one_first_sale(make_user, make_buyer, make_listing):
    seller, _ = make_user("seller")
    listings = [make_listing(seller, title=f"Item {index}") for index in range(10)]
    buyers = [make_buyer(f"buyer{index}")[0] for index in range(10)]
    race(
        [
            lambda buyer=buyer, listing=listing: services.purchase_listing(
                buyer=buyer, listing=listing, idempotency_key="k"
            )
            for buyer, listing in zip(buyers, listings, strict=False)
        ]
    )
    assert Order.objects.count() == 10
    assert DomainEvent.objects.filter(name="first_sale").count() == 1
