"""Upsell: suggestions that go with an order, sent to its buyer, added to the parcel with no second fee."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Category, Listing, Order
from notifications.models import Notification
from sellers.models import Upsell
from social import services as social_services
from social.models import Like, Message
from tests.helpers import assert_constant_queries, gid
from tests.marketplace.checkout_api import ADD_TO_ORDER, MONEY

pytestmark = pytest.mark.django_db

SUGGESTIONS = "query($orderId: ID!) { upsellSuggestions(orderId: $orderId) { title category { path } } }"
SEND = """mutation($input: SendUpsellInput!) { sendUpsell(input: $input) {
  upsell { order { id } message { body kind listings { title } } replied converted } errors { field code } } }"""
UPSELLS = f"""query($first: Int) {{ upsells(first: $first) {{ edges {{ node {{ replied converted
  order {{ id buyer {{ username }} total {MONEY} }} message {{ body listings {{ title }} }} }} }} }} }}"""
RESULTS = "{ sellerResults { upsells { sent replied converted } } }"


@pytest.fixture
def seller(make_user):
    user, token = make_user("seller")
    user.token = token
    return user


@pytest.fixture
def buyer(make_buyer):
    user, token = make_buyer("marco")
    user.token = token
    return user


def category(path):
    return Category.objects.get(path=path).pk


@pytest.fixture
def order(seller, buyer, make_listing):
    """Marco bought the seller's dress (25.00 + a 6.49 label)."""
    dress = make_listing(seller, title="Summer dress", category_id=category("women/dresses"))
    return marketplace_services.purchase_listing(buyer=buyer, listing=dress, idempotency_key="dress")


def titles(payload):
    return [item["title"] for item in payload]


def test_suggestions_rank_the_buyers_likes_then_what_goes_with_it_then_co_likes(
    gql, seller, buyer, order, make_listing, make_user
):
    dress = order.lines.get().listing
    make_listing(seller, title="Heels", category_id=category("women/shoes"))
    clutch = make_listing(seller, title="Clutch", category_id=category("women/bags"))
    second_dress = make_listing(seller, title="Second dress", category_id=category("women/dresses"))
    make_listing(seller, title="Men's shirt", category_id=category("men/shirts"))
    make_listing(seller, title="Draft", publish=False)
    Listing.objects.filter(pk=make_listing(seller, title="Sold one").pk).update(status=Listing.Status.SOLD)
    make_listing(make_user("other")[0], title="Someone else's")
    social_services.like_listing(user=buyer, listing=clutch)
    for name in ("fan1", "fan2"):  # people who liked the dress (before it sold) like the second dress too
        fan, _ = make_user(name)
        Like.objects.create(user=fan, listing=dress)
        social_services.like_listing(user=fan, listing=second_dress)

    suggestions = gql(SUGGESTIONS, {"orderId": gid(order)}, token=seller.token)["data"]["upsellSuggestions"]
    assert titles(suggestions) == ["Clutch", "Heels", "Second dress", "Men's shirt"]

    refused = gql(SUGGESTIONS, {"orderId": gid(order)}, token=buyer.token)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_suggestions_run_a_fixed_number_of_queries(gql, seller, order, make_listing):
    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            body = gql(SUGGESTIONS, {"orderId": gid(order)}, token=seller.token)
        return len(body["data"]["upsellSuggestions"]), len(captured.captured_queries)

    gql(SUGGESTIONS, {"orderId": gid(order)}, token=seller.token)  # warm-up (the token's last-used stamp)
    for number in range(3):
        make_listing(seller, title=f"Item {number}")
    few = count_queries()
    for number in range(30):
        make_listing(seller, title=f"More {number}")
    many = count_queries()
    assert (few[0], many[0]) == (3, 20) and few[1] == many[1]


def send(api, seller, order, listings, note=None):
    variables = {"input": {"orderId": gid(order), "listingIds": [gid(item) for item in listings], "note": note}}
    return api(SEND, variables, token=seller.token)["data"]["sendUpsell"]


def add_to_order(api, buyer, order, listing, key="add-on-key-1"):
    variables = {"input": {"orderId": gid(order), "listingId": gid(listing), "idempotencyKey": key}}
    return api(ADD_TO_ORDER, variables, token=buyer.token)["data"]["addToOrder"]


def test_the_buyer_gets_the_items_and_adds_one_to_the_parcel_with_no_second_fee(
    api, gql, seller, buyer, order, make_listing
):
    heels = make_listing(seller, title="Heels", price="40.00")
    belt = make_listing(seller, title="Belt", price="12.00")
    payload = send(api, seller, order, [heels, belt], note="These go with your dress!")
    assert payload["errors"] == []
    assert payload["upsell"]["message"] == {
        "body": "These go with your dress!",
        "kind": "UPSELL",
        "listings": [{"title": "Heels"}, {"title": "Belt"}],
    }
    notification = Notification.objects.get(recipient=buyer, kind="upsell")
    assert notification.title == "@seller picked items to go with your order"
    inbox = gql("{ conversations { edges { node { lastMessage { kind listings { title } } } } } }", token=buyer.token)[
        "data"
    ]["conversations"]["edges"]
    assert inbox[0]["node"]["lastMessage"] == {"kind": "UPSELL", "listings": [{"title": "Heels"}, {"title": "Belt"}]}

    added = add_to_order(api, buyer, order, heels)
    assert added["errors"] == []
    assert added["order"]["shippingFee"] == {"amount": "6.49", "currency": "USD"}  # still one label
    assert added["order"]["total"] == {"amount": "71.49", "currency": "USD"}  # 25.00 + 40.00 + 6.49
    assert Order.objects.count() == 1

    social_services.send_message(sender=buyer, recipient=seller, body="Thanks, got the heels!")
    upsells = gql(UPSELLS, token=seller.token)["data"]["upsells"]["edges"]
    assert [(edge["node"]["replied"], edge["node"]["converted"]) for edge in upsells] == [(True, True)]
    assert gql(RESULTS, token=seller.token)["data"]["sellerResults"]["upsells"] == {
        "sent": 1,
        "replied": 1,
        "converted": 1,
    }


def test_outside_the_add_on_window_sending_and_adding_fail_clearly(api, seller, buyer, order, make_listing):
    heels = make_listing(seller, title="Heels")
    assert send(api, seller, order, [heels])["errors"] == []
    Order.objects.filter(pk=order.pk).update(add_on_until=timezone.now() - timedelta(seconds=1))
    assert add_to_order(api, buyer, order, heels)["errors"] == [{"field": "orderId", "code": "ADD_ON_WINDOW_CLOSED"}]
    later = marketplace_services.purchase_listing(
        buyer=buyer, listing=make_listing(seller, title="Scarf"), idempotency_key="scarf"
    )
    Order.objects.filter(pk=later.pk).update(add_on_until=timezone.now() - timedelta(seconds=1))
    assert send(api, seller, later, [heels])["errors"] == [{"field": "orderId", "code": "ADD_ON_WINDOW_CLOSED"}]
    heels.refresh_from_db()
    assert heels.status == Listing.Status.AVAILABLE and Upsell.objects.count() == 1


def test_an_upsell_is_checked(api, seller, buyer, order, make_listing, make_user):
    heels = make_listing(seller, title="Heels")
    other = make_listing(make_user("other")[0], title="Not yours")
    dress = order.lines.get().listing
    assert send(api, seller, order, [])["errors"] == [{"field": "listingIds", "code": "INVALID"}]
    assert send(api, seller, order, [other])["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    assert send(api, seller, order, [dress])["errors"] == [{"field": "listingIds", "code": "LISTING_NOT_AVAILABLE"}]
    assert send(api, buyer, order, [heels])["errors"] == [{"field": "orderId", "code": "NOT_FOUND"}]
    assert send(api, seller, order, [heels])["errors"] == []
    assert send(api, seller, order, [heels])["errors"] == [{"field": "orderId", "code": "UPSELL_ALREADY_SENT"}]
    assert Message.objects.filter(kind=Message.Kind.UPSELL).count() == 1


def test_the_upsell_list_runs_a_fixed_number_of_queries(gql, seller, make_buyer, make_listing):
    from sellers import services

    made = []

    def grow(count):
        for _ in range(count):
            buyer, _ = make_buyer(f"buyer{len(made)}")
            item = make_listing(seller, title=f"Item {len(made)}")
            order = marketplace_services.purchase_listing(buyer=buyer, listing=item, idempotency_key="buy")
            services.send_upsell(order=order, listings=[make_listing(seller, title=f"Extra {len(made)}")])
            made.append(order)

    assert_constant_queries(gql, UPSELLS, {"first": 100}, seller.token, grow, path=["upsells"], sizes=(5, 20))
    assert Decimal(
        gql(UPSELLS, {"first": 1}, token=seller.token)["data"]["upsells"]["edges"][0]["node"]["order"]["total"][
            "amount"
        ]
    ) == Decimal("31.49")
