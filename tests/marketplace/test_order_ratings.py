"""Buyers rate the orders they accepted, 1 to 5 stars (ambassador eligibility reads the average)."""

import pytest

from marketplace import services
from marketplace.models import Order
from tests.helpers import gid

pytestmark = pytest.mark.django_db

RATE = """mutation($input: RateOrderInput!) { rateOrder(input: $input) {
  order { status rating ratedAt } errors { field code } } }"""


@pytest.fixture
def order(make_user, make_buyer, make_listing):
    seller, seller_token = make_user("ava")
    buyer, buyer_token = make_buyer("marco")
    order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
    order.tokens = {"seller": seller_token, "buyer": buyer_token}
    return order


def rate(gql, token, order, stars):
    return gql(RATE, {"input": {"orderId": gid(order), "stars": stars}}, token=token)["data"]["rateOrder"]


def test_the_buyer_rates_an_accepted_order_and_may_change_the_rating(gql, order):
    assert rate(gql, order.tokens["buyer"], order, 5)["errors"] == [
        {"field": "orderId", "code": "ORDER_TRANSITION_NOT_ALLOWED"}
    ]
    services.ship_order(order=order, actor=order.seller, tracking_number="1Z999AA10123456784")
    services.accept_order(order=order, actor=order.buyer)
    rated = rate(gql, order.tokens["buyer"], order, 4)
    assert rated["errors"] == [] and rated["order"]["rating"] == 4 and rated["order"]["ratedAt"]
    assert rate(gql, order.tokens["buyer"], order, 5)["order"]["rating"] == 5
    assert Order.objects.get().buyer_rating == 5


@pytest.mark.parametrize("stars", [0, 6])
def test_stars_are_one_to_five_and_only_the_buyer_rates(gql, order, stars):
    services.ship_order(order=order, actor=order.seller, tracking_number="1Z999AA10123456784")
    services.accept_order(order=order, actor=order.buyer)
    assert rate(gql, order.tokens["buyer"], order, stars)["errors"] == [{"field": "stars", "code": "INVALID"}]
    assert rate(gql, order.tokens["seller"], order, 5)["errors"] == [{"field": "orderId", "code": "FORBIDDEN"}]
    assert Order.objects.get().buyer_rating is None
