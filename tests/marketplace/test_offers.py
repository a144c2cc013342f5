"""Offers through the API: floors, turns, counters, binding acceptance, expiry, offers to likers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import services, tasks
from marketplace.models import DomainEvent, Listing, Offer, Order, OrderDiscount
from notifications.models import Notification
from tests.helpers import assert_constant_queries, gid
from tests.marketplace.checkout_api import OFFER, make_offer, money, respond

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_user):
    return make_user("ava")


@pytest.fixture
def buyer(make_buyer):
    return make_buyer("marco")


@pytest.fixture
def listing(seller, make_listing):
    return make_listing(seller[0], title="Denim jacket", price="50.00")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call and its on-commit work (notifications, payment capture), as a request would."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def notices(user, kind) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk").values_list("title", flat=True))


def events() -> list[str]:
    return list(DomainEvent.objects.order_by("pk").values_list("name", flat=True))


def test_a_buyer_offers_and_the_seller_hears_of_it(gql, seller, buyer, listing, committed):
    payload = committed(make_offer, gql, buyer[1], "30", listing=listing)
    assert payload["errors"] == []
    assert payload["offer"] | {"id": None} == {
        "id": None,
        "status": "PENDING",
        "source": "BUYER_OFFER",
        "turn": "SELLER",
        "viewerRole": "BUYER",
        "amount": money("30.00"),
        "buyerAmount": money("30.00"),
        "sellerAmount": money("50.00"),
        "shippingDiscount": money("0.00"),
        "counterCount": 0,
        "listing": {"id": gid(listing)},
        "bundle": None,
        "buyer": {"username": "marco"},
        "seller": {"username": "ava"},
        "order": None,
    }
    assert notices(seller[0], "offer_received") == ["Offer: 30.00 USD"]
    assert events() == ["offer_received"]
    assert DomainEvent.objects.get().payload["recipient_id"] == seller[0].pk


@pytest.mark.parametrize(
    "amount, code",
    [
        ("19.99", "OFFER_TOO_LOW"),
        ("50.00", "OFFER_TOO_HIGH"),
        ("75", "OFFER_TOO_HIGH"),
        ("0", "INVALID_PRICE"),
        ("20.001", "INVALID_PRICE"),
    ],
)
def test_an_offer_is_at_least_forty_percent_and_below_the_price(gql, buyer, listing, amount, code):
    assert make_offer(gql, buyer[1], amount, listing=listing)["errors"] == [{"field": "amount", "code": code}]
    assert not Offer.objects.exists()


def test_forty_percent_exactly_is_fine(gql, buyer, listing):
    assert make_offer(gql, buyer[1], "20.00", listing=listing)["offer"]["amount"] == money("20.00")


def test_offer_refusals_are_typed(gql, seller, make_user, buyer, listing):
    _, homeless = make_user("sam")
    assert make_offer(gql, seller[1], "30", listing=listing)["errors"] == [
        {"field": "listingId", "code": "CANNOT_BUY_OWN_LISTING"}
    ]
    assert make_offer(gql, homeless, "30", listing=listing)["errors"] == [
        {"field": "shippingAddressId", "code": "ADDRESS_REQUIRED"}
    ]
    assert make_offer(gql, buyer[1], "30", listing=listing, bundleId=gid(listing))["errors"] == [
        {"field": "listingId", "code": "INVALID"}
    ]
    Listing.objects.filter(pk=listing.pk).update(status="sold", quantity=0)
    assert make_offer(gql, buyer[1], "30", listing=listing)["errors"] == [{"field": "listingId", "code": "SOLD_OUT"}]
    assert not Offer.objects.exists()


def test_one_waiting_offer_per_buyer_and_listing(gql, seller, buyer, make_buyer, listing):
    first = make_offer(gql, buyer[1], "30", listing=listing)["offer"]
    assert make_offer(gql, buyer[1], "32", listing=listing)["errors"] == [
        {"field": "listingId", "code": "OFFER_ALREADY_PENDING"}
    ]
    assert make_offer(gql, make_buyer("priya")[1], "31", listing=listing)["errors"] == []  # others may
    respond(gql, seller[1], first["id"], "DECLINE")
    assert make_offer(gql, buyer[1], "33", listing=listing)["errors"] == []


def test_an_idempotency_key_makes_a_retried_offer_return_the_first(gql, buyer, listing):
    first = make_offer(gql, buyer[1], "30", listing=listing, idempotencyKey="offer-key-0001")
    assert make_offer(gql, buyer[1], "30", listing=listing, idempotencyKey="offer-key-0001") == first
    assert make_offer(gql, buyer[1], "31", listing=listing, idempotencyKey="offer-key-0001")["errors"] == [
        {"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}
    ]
    assert Offer.objects.count() == 1


def test_the_seller_accepts_and_the_order_is_made_at_the_offer_price(
    gql, seller, buyer, make_buyer, listing, committed, provider
):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    other_id = make_offer(gql, make_buyer("priya")[1], "25", listing=listing)["offer"]["id"]
    payload = committed(respond, gql, seller[1], offer_id, "ACCEPT")
    assert payload["errors"] == []
    assert (payload["offer"]["status"], payload["offer"]["order"]) == (
        "ACCEPTED",
        {"id": payload["offer"]["order"]["id"], "status": "PAID", "total": money("36.49")},
    )
    order = Order.objects.get()
    assert (order.buyer, order.source, order.item_total) == (buyer[0], "offer", Decimal("30.00"))
    assert order.lines.get().source == "offer"
    assert provider.operations() == ["authorize", "capture"]
    listing.refresh_from_db()
    assert listing.status == Listing.Status.SOLD
    assert Offer.objects.exclude(order=order).get().status == Offer.Status.CANCELLED
    assert gql("query($id: ID!) { offer(id: $id) { status } }", {"id": other_id}, token=seller[1])["data"]["offer"] == {
        "status": "CANCELLED"
    }
    assert notices(buyer[0], "offer_accepted") == ["Your offer was accepted"]
    assert notices(seller[0], "item_sold") == ["Sold: Denim jacket"]
    assert events()[-4:] == ["offer_received", "order_placed", "first_sale", "offer_accepted"]
    # Accepting again is a retry: the same order, nothing new.
    assert respond(gql, seller[1], offer_id, "ACCEPT") == payload
    assert Order.objects.count() == 1


def test_counters_alternate_between_the_two_figures_and_restart_the_clock(gql, seller, buyer, listing, committed):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    Offer.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    assert respond(gql, buyer[1], offer_id, "ACCEPT")["errors"] == [{"field": "offerId", "code": "NOT_YOUR_TURN"}]
    too_high, too_low = [{"field": "amount", "code": "OFFER_TOO_HIGH"}], [{"field": "amount", "code": "OFFER_TOO_LOW"}]
    assert respond(gql, seller[1], offer_id, "COUNTER", "50")["errors"] == too_high
    assert respond(gql, seller[1], offer_id, "COUNTER", "30")["errors"] == too_low
    assert respond(gql, seller[1], offer_id, "COUNTER")["errors"] == [{"field": "amount", "code": "REQUIRED"}]
    countered = committed(respond, gql, seller[1], offer_id, "COUNTER", "45")["offer"]
    assert (countered["turn"], countered["amount"], countered["counterCount"]) == ("BUYER", money("45.00"), 1)
    assert Offer.objects.get().expires_at > timezone.now() + timedelta(hours=23)
    assert respond(gql, seller[1], offer_id, "COUNTER", "44")["errors"] == [
        {"field": "offerId", "code": "NOT_YOUR_TURN"}
    ]
    assert respond(gql, buyer[1], offer_id, "COUNTER", "45")["errors"] == too_high
    back = committed(respond, gql, buyer[1], offer_id, "COUNTER", "38")["offer"]
    assert (back["turn"], back["buyerAmount"], back["sellerAmount"]) == ("SELLER", money("38.00"), money("45.00"))
    assert notices(buyer[0], "offer_countered") == ["Counter offer: 45.00 USD"]
    assert notices(seller[0], "offer_countered") == ["Counter offer: 38.00 USD"]
    accepted = respond(gql, seller[1], offer_id, "ACCEPT")["offer"]
    assert accepted["order"]["total"] == money("44.49")  # 38.00 + 6.49
    assert events().count("offer_countered") == 2


def test_the_buyer_accepts_the_sellers_counter(gql, seller, buyer, listing):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    respond(gql, seller[1], offer_id, "COUNTER", "40")
    assert respond(gql, buyer[1], offer_id, "ACCEPT")["offer"]["order"]["total"] == money("46.49")
    assert Order.objects.get().buyer == buyer[0]


def test_a_declined_offer_is_closed(gql, seller, buyer, listing, committed):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    assert committed(respond, gql, seller[1], offer_id, "DECLINE")["offer"]["status"] == "DECLINED"
    assert notices(buyer[0], "offer_declined") == ["Your offer was declined"]
    for token, action in ((seller[1], "ACCEPT"), (buyer[1], "COUNTER"), (seller[1], "DECLINE")):
        assert respond(gql, token, offer_id, action, "35")["errors"] == [
            {"field": "offerId", "code": "OFFER_NOT_PENDING"}
        ]
    assert not Order.objects.exists()


def test_an_expired_offer_can_never_be_accepted_even_before_the_task_runs(gql, seller, buyer, listing, committed):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    Offer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert respond(gql, seller[1], offer_id, "ACCEPT") == {
        "offer": None,
        "errors": [{"field": "offerId", "code": "OFFER_NOT_PENDING"}],
    }
    assert gql("query($id: ID!) { offer(id: $id) { status } }", {"id": offer_id}, token=buyer[1])["data"]["offer"] == {
        "status": "EXPIRED"
    }
    listing.refresh_from_db()
    assert listing.status == Listing.Status.AVAILABLE and not Order.objects.exists()
    # The periodic task records it: the event, and a notice to the buyer.
    assert committed(tasks.expire_offers) == 1
    assert Offer.objects.get().status == Offer.Status.EXPIRED
    assert notices(buyer[0], "offer_expired") == ["An offer expired"]
    assert events() == ["offer_received", "offer_expired"]
    assert tasks.expire_offers() == 0


def test_a_new_offer_replaces_an_expired_one_the_task_has_not_seen(gql, buyer, listing):
    make_offer(gql, buyer[1], "30", listing=listing)
    Offer.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert make_offer(gql, buyer[1], "31", listing=listing)["errors"] == []
    assert sorted(Offer.objects.values_list("status", flat=True)) == ["expired", "pending"]


def test_an_offer_on_a_listing_held_for_someone_else_cannot_be_accepted(gql, seller, buyer, listing):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    services.reserve_listing(listing=listing)
    assert respond(gql, seller[1], offer_id, "ACCEPT")["errors"] == [
        {"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}
    ]
    assert Offer.objects.get().status == Offer.Status.PENDING and not Order.objects.exists()


def test_the_proposer_withdraws_the_other_side_declines(gql, seller, buyer, listing):
    withdraw = """mutation($input: OfferIdInput!) {
      withdrawOffer(input: $input) { offer { status } errors { field code } } }"""
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    assert gql(withdraw, {"input": {"offerId": offer_id}}, token=seller[1])["data"]["withdrawOffer"]["errors"] == [
        {"field": "offerId", "code": "NOT_YOUR_TURN"}
    ]
    assert gql(withdraw, {"input": {"offerId": offer_id}}, token=buyer[1])["data"]["withdrawOffer"] == {
        "offer": {"status": "WITHDRAWN"},
        "errors": [],
    }


def test_strangers_neither_see_nor_answer_offers(gql, make_user, buyer, listing):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    _, stranger = make_user("sam")
    assert respond(gql, stranger, offer_id, "ACCEPT")["errors"] == [{"field": "offerId", "code": "NOT_FOUND"}]
    assert gql("query($id: ID!) { offer(id: $id) { id } }", {"id": offer_id}, token=stranger)["data"]["offer"] is None


def test_an_offer_to_a_liker_waits_for_the_liker_and_carries_a_shipping_discount(
    gql, seller, make_user, listing, committed
):
    liker, liker_token = make_user("priya")  # no address yet: not needed to receive an offer
    offer = committed(
        services.create_offer,
        buyer=liker,
        listing=listing,
        amount=Decimal("40"),
        source=Offer.Source.OFFER_TO_LIKERS,
        shipping_discount=Decimal("6.49"),
    )
    assert (offer.turn, offer.amount, offer.buyer_amount) == ("buyer", Decimal("40.00"), None)
    assert notices(liker, "offer_to_likers") == ["Offer: 40.00 USD"]
    assert respond(gql, seller[1], gid(offer), "ACCEPT")["errors"] == [{"field": "offerId", "code": "NOT_YOUR_TURN"}]
    assert respond(gql, liker_token, gid(offer), "ACCEPT")["errors"] == [
        {"field": "shippingAddressId", "code": "ADDRESS_REQUIRED"}
    ]
    services.add_shipping_address(
        user=liker, recipient_name="Priya", line1="2 Oak St", city="Boise", postal_code="83702", country="US"
    )
    # A liker may counter, from the floor up to below the seller's figure.
    assert respond(gql, liker_token, gid(offer), "COUNTER", "19.99")["errors"] == [
        {"field": "amount", "code": "OFFER_TOO_LOW"}
    ]
    accepted = respond(gql, liker_token, gid(offer), "ACCEPT")["offer"]
    assert accepted["order"]["total"] == money("40.00")  # free shipping
    assert list(OrderDiscount.objects.values_list("source", "applies_to", "amount")) == [
        ("offer", "shipping", Decimal("6.49"))
    ]


MY_OFFERS = f"""query($role: Party!, $pendingOnly: Boolean, $first: Int) {{
  myOffers(role: $role, pendingOnly: $pendingOnly, first: $first) {{ edges {{ node {OFFER} }} }} }}"""


def test_my_offers_for_each_side(gql, seller, buyer, make_listing, listing):
    first = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    second = make_offer(gql, buyer[1], "10", listing=make_listing(seller[0], price="20"))["offer"]["id"]
    respond(gql, seller[1], first, "DECLINE")

    def ids(body):
        return [edge["node"]["id"] for edge in body["data"]["myOffers"]["edges"]]

    assert ids(gql(MY_OFFERS, {"role": "BUYER"}, token=buyer[1])) == [first, second]  # the declined one moved last
    assert ids(gql(MY_OFFERS, {"role": "SELLER"}, token=seller[1])) == [first, second]
    assert ids(gql(MY_OFFERS, {"role": "SELLER", "pendingOnly": True}, token=seller[1])) == [second]
    assert ids(gql(MY_OFFERS, {"role": "SELLER"}, token=buyer[1])) == []


@pytest.mark.parametrize("role", ["BUYER", "SELLER"])
def test_my_offers_runs_a_fixed_number_of_queries(gql, seller, buyer, make_listing, role):
    made = []

    def grow(count):
        for _ in range(count):
            offer = services.create_offer(buyer=buyer[0], listing=make_listing(seller[0]), amount=Decimal("20"))
            if len(made) % 2:  # half of them accepted: each shows its order too
                services.respond_to_offer(offer=offer, actor=seller[0], action="accept")
            made.append(offer)

    assert_constant_queries(
        gql,
        MY_OFFERS,
        {"role": role, "first": 100},
        seller[1] if role == "SELLER" else buyer[1],
        grow,
        path=["myOffers"],
    )


def test_taking_a_listing_down_closes_the_offers_on_it(gql, seller, buyer, listing):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    services.remove_listing(listing=listing)
    assert Offer.objects.get().status == Offer.Status.CANCELLED
    assert respond(gql, seller[1], offer_id, "ACCEPT")["errors"] == [{"field": "offerId", "code": "OFFER_NOT_PENDING"}]


@pytest.mark.parametrize("status", [status for status in Offer.Status.values if status != Offer.Status.PENDING])
@pytest.mark.parametrize("action", ["ACCEPT", "DECLINE", "COUNTER", "WITHDRAW"])
def test_a_closed_offer_refuses_every_answer_and_changes_nothing(gql, seller, buyer, listing, status, action):
    offer_id = make_offer(gql, buyer[1], "30", listing=listing)["offer"]["id"]
    Offer.objects.update(status=status)
    before = (
        list(Offer.objects.values()),
        Order.objects.count(),
        Notification.objects.count(),
        DomainEvent.objects.count(),
        Listing.objects.values_list("status", "quantity").get(),
    )
    if action == "WITHDRAW":
        mutation = "mutation($input: OfferIdInput!) { withdrawOffer(input: $input) { errors { field code } } }"
        errors = gql(mutation, {"input": {"offerId": offer_id}}, token=buyer[1])["data"]["withdrawOffer"]["errors"]
    else:
        errors = respond(gql, seller[1], offer_id, action, "40")["errors"]
    assert errors == [{"field": "offerId", "code": "OFFER_NOT_PENDING"}]
    assert before == (
        list(Offer.objects.values()),
        Order.objects.count(),
        Notification.objects.count(),
        DomainEvent.objects.count(),
        Listing.objects.values_list("status", "quantity").get(),
    )
