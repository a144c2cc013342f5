"""Bundles through the API: gathering items from one closet, the seller's discounts, one parcel at
checkout, and offers on a whole bundle."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import pricing, selectors, services
from marketplace.models import Bundle, Listing, Offer, Order, OrderDiscount
from marketplace.services import bundles
from tests.helpers import gid
from tests.marketplace.checkout_api import ERRORS, MONEY, ORDER, make_offer, money, respond

pytestmark = pytest.mark.django_db

BUNDLE = f"""{{ id seller {{ username }} items {{ title status }} itemTotal {MONEY} shippingFee {MONEY} total {MONEY}
  discounts {{ source appliesTo amount {MONEY} description }} pendingOffer {{ id amount {MONEY} }} }}"""
ADD = f"mutation($input: ListingIdInput!) {{ addToBundle(input: $input) {{ bundle {BUNDLE} {ERRORS} }} }}"
REMOVE = f"mutation($input: ListingIdInput!) {{ removeFromBundle(input: $input) {{ bundle {BUNDLE} {ERRORS} }} }}"
BUNDLE_OF = f"query($sellerId: ID!) {{ bundle(sellerId: $sellerId) {BUNDLE} }}"
CHECKOUT = f"""mutation($input: CheckoutBundleInput!) {{
  checkoutBundle(input: $input) {{ order {ORDER} {ERRORS} }} }}"""
BUNDLE_DISCOUNT = """mutation($input: UpdateBundleDiscountInput!) {
  updateBundleDiscount(input: $input) {
    sellerDiscounts { bundlePercent bundleMinItems shippingPercent } errors { field code } } }"""
SHIPPING_DISCOUNT = """mutation($input: UpdateShippingDiscountInput!) {
  updateShippingDiscount(input: $input) { sellerDiscounts { shippingPercent } errors { field code } } }"""


@pytest.fixture
def seller(make_user):
    return make_user("ava")


@pytest.fixture
def buyer(make_buyer):
    return make_buyer("marco")


@pytest.fixture
def closet(seller, make_listing):
    return [
        make_listing(seller[0], title=title, price=price)
        for title, price in (("Jacket", "20.00"), ("Jeans", "35.00"), ("Tee", "12.99"))
    ]


def add(gql, token, listing):
    return gql(ADD, {"input": {"listingId": gid(listing)}}, token=token)["data"]["addToBundle"]


def checkout(gql, token, bundle_id, key="bundle-key-0001"):
    variables = {"input": {"bundleId": bundle_id, "idempotencyKey": key}}
    return gql(CHECKOUT, variables, token=token)["data"]["checkoutBundle"]


def test_a_bundle_gathers_items_and_quotes_one_parcel(gql, seller, buyer, closet):
    for listing in closet:
        payload = add(gql, buyer[1], listing)
    assert add(gql, buyer[1], closet[0]) == payload  # adding twice changes nothing
    assert payload == {
        "errors": [],
        "bundle": {
            "id": payload["bundle"]["id"],
            "seller": {"username": "ava"},
            "items": [
                {"title": "Jacket", "status": "AVAILABLE"},
                {"title": "Jeans", "status": "AVAILABLE"},
                {"title": "Tee", "status": "AVAILABLE"},
            ],
            "itemTotal": money("67.99"),
            "shippingFee": money("6.49"),
            "total": money("74.48"),
            "discounts": [],
            "pendingOffer": None,
        },
    }
    assert gql(BUNDLE_OF, {"sellerId": gid(seller[0])}, token=buyer[1])["data"]["bundle"] == payload["bundle"]
    removed = gql(REMOVE, {"input": {"listingId": gid(closet[1])}}, token=buyer[1])["data"]["removeFromBundle"]
    assert [item["title"] for item in removed["bundle"]["items"]] == ["Jacket", "Tee"]


def test_checkout_makes_one_order_with_one_fee_and_the_bundle_discount(gql, seller, buyer, closet, provider):
    discount = gql(BUNDLE_DISCOUNT, {"input": {"bundlePercent": 15, "bundleMinItems": 3}}, token=seller[1])
    assert discount["data"]["updateBundleDiscount"] == {
        "sellerDiscounts": {"bundlePercent": 15, "bundleMinItems": 3, "shippingPercent": 0},
        "errors": [],
    }
    for listing in closet[:2]:
        add(gql, buyer[1], listing)
    assert gql(BUNDLE_OF, {"sellerId": gid(seller[0])}, token=buyer[1])["data"]["bundle"]["discounts"] == []
    bundle = add(gql, buyer[1], closet[2])["bundle"]
    assert (bundle["discounts"], bundle["total"]) == (
        [{"source": "BUNDLE", "appliesTo": "ITEMS", "amount": money("10.20"), "description": "15% off 3+ items"}],
        money("64.28"),
    )
    payload = checkout(gql, buyer[1], bundle["id"])
    assert payload["errors"] == []
    order = payload["order"]
    assert (order["source"], [line["title"] for line in order["lines"]]) == ("BUNDLE", ["Jacket", "Jeans", "Tee"])
    assert (order["itemTotal"], order["shippingFee"], order["discountTotal"], order["total"]) == (
        money("67.99"),
        money("6.49"),
        money("10.20"),
        money("64.28"),
    )
    assert order["discounts"] == bundle["discounts"]
    assert set(Listing.objects.values_list("status", flat=True)) == {"sold"}
    assert Bundle.objects.get().status == Bundle.Status.ORDERED
    assert provider.operations() == ["authorize"]  # one payment for the parcel (captured on commit)
    # A retry is the same order; the bundle is gone from the closet's view.
    assert checkout(gql, buyer[1], bundle["id"]) == payload
    assert checkout(gql, buyer[1], bundle["id"], key="bundle-key-0002")["errors"] == [
        {"field": "bundleId", "code": "BUNDLE_ALREADY_ORDERED"}
    ]
    assert gql(BUNDLE_OF, {"sellerId": gid(seller[0])}, token=buyer[1])["data"]["bundle"] is None


def test_the_sellers_shipping_discount_comes_off_every_order(gql, seller, buyer, closet):
    assert gql(SHIPPING_DISCOUNT, {"input": {"shippingPercent": 50}}, token=seller[1])["data"][
        "updateShippingDiscount"
    ] == {"sellerDiscounts": {"shippingPercent": 50}, "errors": []}
    order = services.purchase_listing(buyer=buyer[0], listing=closet[0], idempotency_key="k")
    assert (order.shipping_fee, order.discount_total, order.total) == (
        Decimal("6.49"),
        Decimal("3.25"),
        Decimal("23.24"),
    )
    assert list(OrderDiscount.objects.values_list("source", "applies_to", "description")) == [
        ("seller", "shipping", "50% off shipping")
    ]
    query = "query($id: ID!) { sellerDiscounts(sellerId: $id) { bundlePercent shippingPercent } }"
    assert gql(query, {"id": gid(seller[0])})["data"]["sellerDiscounts"] == {"bundlePercent": 0, "shippingPercent": 50}


@pytest.mark.parametrize(
    "mutation, values, field",
    [
        (BUNDLE_DISCOUNT, {"bundlePercent": 91, "bundleMinItems": 3}, "bundlePercent"),
        (BUNDLE_DISCOUNT, {"bundlePercent": -1, "bundleMinItems": 3}, "bundlePercent"),
        (BUNDLE_DISCOUNT, {"bundlePercent": 10, "bundleMinItems": 1}, "bundleMinItems"),
        (SHIPPING_DISCOUNT, {"shippingPercent": 101}, "shippingPercent"),
    ],
)
def test_seller_discounts_stay_in_range(gql, seller, mutation, values, field):
    body = gql(mutation, {"input": values}, token=seller[1])["data"]
    assert next(iter(body.values()))["errors"] == [{"field": field, "code": "INVALID"}]
    assert selectors.seller_terms(seller[0].pk) == pricing.SellerTerms()


def test_what_cannot_go_in_a_bundle(gql, seller, buyer, make_user, make_listing, closet, monkeypatch):
    assert add(gql, seller[1], closet[0])["errors"] == [{"field": "listingId", "code": "CANNOT_BUY_OWN_LISTING"}]
    Listing.objects.filter(pk=closet[0].pk).update(status="sold", quantity=0)
    assert add(gql, buyer[1], closet[0])["errors"] == [{"field": "listingId", "code": "SOLD_OUT"}]
    add(gql, buyer[1], closet[1])
    euros = make_listing(seller[0], title="Beret", currency="EUR")
    assert add(gql, buyer[1], euros)["errors"] == [{"field": "listingId", "code": "INVALID_CURRENCY"}]
    monkeypatch.setattr(bundles, "BUNDLE_MAX_ITEMS", 1)
    assert add(gql, buyer[1], closet[2])["errors"] == [{"field": "listingId", "code": "BUNDLE_FULL"}]
    assert [item.listing for item in Bundle.objects.get().items.all()] == [closet[1]]


def test_checkout_refuses_a_bundle_with_an_item_sold_meanwhile_and_changes_nothing(
    gql, buyer, make_buyer, closet, provider
):
    for listing in closet:
        bundle_id = add(gql, buyer[1], listing)["bundle"]["id"]
    services.purchase_listing(buyer=make_buyer("priya")[0], listing=closet[1], idempotency_key="k")
    assert checkout(gql, buyer[1], bundle_id)["errors"] == [{"field": "listingId", "code": "SOLD_OUT"}]
    assert Order.objects.count() == 1 and Bundle.objects.get().status == Bundle.Status.OPEN
    assert list(Listing.objects.order_by("pk").values_list("status", flat=True)) == ["available", "sold", "available"]


def test_an_emptied_bundle_cannot_be_checked_out_and_others_cannot_see_it(gql, buyer, make_buyer, closet):
    bundle_id = add(gql, buyer[1], closet[0])["bundle"]["id"]
    gql(REMOVE, {"input": {"listingId": gid(closet[0])}}, token=buyer[1])
    assert checkout(gql, buyer[1], bundle_id)["errors"] == [{"field": "bundleId", "code": "BUNDLE_EMPTY"}]
    assert checkout(gql, make_buyer("priya")[1], bundle_id)["errors"] == [{"field": "bundleId", "code": "NOT_FOUND"}]


def test_an_accepted_bundle_offer_buys_the_bundle_at_the_offer_price(gql, seller, buyer, closet, provider):
    services.update_seller_discounts(seller=seller[0], bundle_percent=15, bundle_min_items=2)
    for listing in closet:
        bundle_id = add(gql, buyer[1], listing)["bundle"]["id"]
    assert make_offer(gql, buyer[1], "27.19", bundle=Bundle.objects.get())["errors"] == [
        {"field": "amount", "code": "OFFER_TOO_LOW"}
    ]  # 40% of 67.99 is 27.20
    offer = make_offer(gql, buyer[1], "55", bundle=Bundle.objects.get())["offer"]
    assert (offer["bundle"], offer["sellerAmount"], offer["listing"]) == ({"id": bundle_id}, money("67.99"), None)
    # While the offer waits, the bundle stays as it is.
    assert gql(BUNDLE_OF, {"sellerId": gid(seller[0])}, token=buyer[1])["data"]["bundle"]["pendingOffer"] == {
        "id": offer["id"],
        "amount": money("55.00"),
    }
    assert gql(REMOVE, {"input": {"listingId": gid(closet[0])}}, token=buyer[1])["data"]["removeFromBundle"][
        "errors"
    ] == [{"field": "listingId", "code": "BUNDLE_HAS_PENDING_OFFER"}]
    accepted = respond(gql, seller[1], offer["id"], "ACCEPT")
    assert accepted["errors"] == [] and accepted["offer"]["status"] == "ACCEPTED"
    order = Order.objects.get()
    assert (order.source, order.item_total, order.discount_total, order.total) == (
        "offer",
        Decimal("67.99"),
        Decimal("12.99"),
        Decimal("61.49"),
    )
    assert list(order.discounts.values_list("source", "applies_to", "amount")) == [
        ("offer", "items", Decimal("12.99"))
    ]  # the offer is the price: no bundle discount on top
    assert order.lines.count() == 3 and Bundle.objects.get().order == order


def test_a_sale_of_one_item_closes_offers_on_bundles_holding_it(gql, buyer, make_buyer, closet):
    for listing in closet:
        add(gql, buyer[1], listing)
    make_offer(gql, buyer[1], "50", bundle=Bundle.objects.get())
    services.purchase_listing(buyer=make_buyer("priya")[0], listing=closet[0], idempotency_key="k")
    assert Offer.objects.get().status == Offer.Status.CANCELLED


def test_the_bundle_query_runs_a_fixed_number_of_queries(gql, seller, buyer, make_listing):
    services.update_seller_discounts(seller=seller[0], bundle_percent=10, bundle_min_items=2)
    gql("{ me { id } }", token=buyer[1])  # warm-up: the token's last-used stamp is written once
    counts, items = [], 0
    for size in (5, 50):
        for _ in range(size - items):
            services.add_to_bundle(buyer=buyer[0], listing=make_listing(seller[0]))
        items = size
        with CaptureQueriesContext(connection) as captured:
            bundle = gql(BUNDLE_OF, {"sellerId": gid(seller[0])}, token=buyer[1])["data"]["bundle"]
        assert len(bundle["items"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
