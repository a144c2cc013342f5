"""The seller's ledger through GraphQL: a sale books its proceeds and the commission, pending; the
buyer's acceptance makes them available; a cancellation or a refund nets them to zero; duplicated
and reordered events book nothing twice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from earnings.models import EarningsSettings, LedgerEntry
from marketplace import events, services
from marketplace import tasks as marketplace_tasks
from marketplace.models import DomainEvent, Order
from tests.earnings.conftest import SHIP, balance_of, buy, entries_of, ship_and_accept

pytestmark = pytest.mark.django_db

CANCEL = """mutation($input: OrderIdInput!) { cancelOrder(input: $input) { order { status } errors { code } } }"""


@pytest.fixture
def parties(make_user, make_buyer):
    seller, seller_token = make_user("ava")
    buyer, buyer_token = make_buyer("marco")
    return seller, seller_token, buyer, buyer_token


def test_a_sale_books_pending_proceeds_less_the_commission(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    buy(api, buyer_token, make_listing(seller, price="25.00"))
    assert entries_of(api, seller_token) == [("COMMISSION", "PENDING", "-5.00"), ("SALE", "PENDING", "25.00")]
    assert balance_of(api, seller_token) == ("20.00", "0.00", "0.00")


def test_a_sellers_shipping_discount_is_a_shipping_subsidy_they_pay(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    services.update_seller_discounts(seller=seller, shipping_percent=50)
    order = buy(api, buyer_token, make_listing(seller, price="25.00"))
    [discount] = Order.objects.get().discounts.all()
    assert sorted(entries_of(api, seller_token)) == [
        ("COMMISSION", "PENDING", "-4.35"),  # 20% of what is left to the seller: 25.00 - 3.25
        ("SALE", "PENDING", "25.00"),
        ("SHIPPING_SUBSIDY", "PENDING", f"-{discount.amount}"),
    ]
    assert discount.amount == Decimal("3.25") and balance_of(api, seller_token) == ("17.40", "0.00", "0.00")
    # Cancelled, the refund nets the subsidy with the rest.
    assert api(CANCEL, {"input": {"orderId": order["id"]}}, token=buyer_token)["data"]["cancelOrder"]["errors"] == []
    assert ("REFUND", "PENDING", "-17.40") in entries_of(api, seller_token)
    assert balance_of(api, seller_token) == ("0.00", "0.00", "0.00")


@pytest.mark.parametrize(
    ("price", "commission"),
    [("14.99", "2.95"), ("15.00", "3.00"), ("100.00", "20.00"), ("2.00", "2.00")],
    ids=["flat-below-threshold", "percent-at-threshold", "percent-above", "never-more-than-the-sale"],
)
def test_the_commission_is_a_flat_fee_below_the_threshold_and_a_percentage_above(
    api, parties, make_listing, price, commission
):
    seller, seller_token, _, buyer_token = parties
    buy(api, buyer_token, make_listing(seller, price=price))
    assert ("COMMISSION", "PENDING", f"-{commission}") in entries_of(api, seller_token)


def test_staff_change_the_commission_rule_for_later_sales(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    EarningsSettings.objects.update_or_create(pk=1, defaults={"commission_percent": Decimal("10.0")})
    buy(api, buyer_token, make_listing(seller, price="50.00"))
    assert balance_of(api, seller_token) == ("45.00", "0.00", "0.00")


def test_a_cancellation_before_acceptance_nets_the_sale_to_zero(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    order = buy(api, buyer_token, make_listing(seller, price="25.00"))
    payload = api(CANCEL, {"input": {"orderId": order["id"]}}, token=buyer_token)["data"]["cancelOrder"]
    assert payload["errors"] == []
    assert entries_of(api, seller_token) == [
        ("REFUND", "PENDING", "-20.00"),
        ("COMMISSION", "PENDING", "-5.00"),
        ("SALE", "PENDING", "25.00"),
    ]
    assert balance_of(api, seller_token) == ("0.00", "0.00", "0.00")


def test_a_re_delivered_event_books_nothing_twice(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    buy(api, buyer_token, make_listing(seller, price="25.00"))
    for event in DomainEvent.objects.filter(name=DomainEvent.Name.ORDER_PLACED):
        DomainEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
        events.dispatch(event.pk)
    assert LedgerEntry.objects.count() == 2
    assert balance_of(api, seller_token) == ("20.00", "0.00", "0.00")


def test_a_cancellation_dispatched_before_the_placement_books_the_sale_once_then_nets_it(
    parties, make_listing, gql, django_capture_on_commit_callbacks
):
    seller, seller_token, buyer, _ = parties
    with django_capture_on_commit_callbacks(execute=False):  # nothing dispatched: the events wait
        order = services.purchase_listing(
            buyer=buyer, listing=make_listing(seller, price="25.00"), idempotency_key="reordered-key-1"
        )
        services.cancel_order(order=order, actor=None)
    placed, cancelled = (
        DomainEvent.objects.get(name=name, payload__order_id=order.pk)
        for name in (DomainEvent.Name.ORDER_PLACED, DomainEvent.Name.ORDER_CANCELLED)
    )
    events.dispatch(cancelled.pk)
    events.dispatch(placed.pk)
    assert sorted(entries_of(gql, seller_token)) == [
        ("COMMISSION", "PENDING", "-5.00"),
        ("REFUND", "PENDING", "-20.00"),
        ("SALE", "PENDING", "25.00"),
    ]
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert balance_of(gql, seller_token) == ("0.00", "0.00", "0.00")


def test_earnings_need_a_login(gql):
    body = gql("{ earnings { balances { currency } } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_seller_sees_only_their_own_entries(api, parties, make_user, make_listing):
    seller, _, _, buyer_token = parties
    buy(api, buyer_token, make_listing(seller))
    _, stranger_token = make_user("stranger")
    assert entries_of(api, stranger_token) == []


def test_acceptance_makes_the_sale_available(api, parties, make_listing):
    seller, seller_token, _, buyer_token = parties
    order = buy(api, buyer_token, make_listing(seller, price="25.00"))
    ship_and_accept(api, order["id"], seller_token, buyer_token)
    assert entries_of(api, seller_token) == [("COMMISSION", "AVAILABLE", "-5.00"), ("SALE", "AVAILABLE", "25.00")]
    assert balance_of(api, seller_token) == ("0.00", "20.00", "0.00")


def test_a_refund_of_a_sent_order_nets_the_pending_sale(api, parties, make_listing, django_capture_on_commit_callbacks):
    seller, seller_token, _, buyer_token = parties
    order = buy(api, buyer_token, make_listing(seller, price="25.00"))
    api(SHIP, {"input": {"orderId": order["id"], "trackingNumber": "1Z999AA10123456784"}}, token=seller_token)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order=Order.objects.get(), actor=None, reason="Damaged")
    assert entries_of(api, seller_token)[0] == ("REFUND", "PENDING", "-20.00")
    assert balance_of(api, seller_token) == ("0.00", "0.00", "0.00")


def lifecycle_events(order) -> list[int]:
    return list(DomainEvent.objects.filter(payload__order_id=order.pk).order_by("pk").values_list("pk", flat=True))


def dispatch_reversed_twice(event_ids):
    """The latest event first, then every one again: a re-delivery in the worst order."""
    for event_id in [*reversed(event_ids), *event_ids]:
        DomainEvent.objects.filter(pk=event_id).update(dispatched_at=None)
        events.dispatch(event_id)


@pytest.mark.parametrize(
    ("ending", "expected", "balance"),
    [
        ("accepted", [("COMMISSION", "AVAILABLE", "-5.00"), ("SALE", "AVAILABLE", "25.00")], "20.00"),
        (
            "refunded",
            [("COMMISSION", "PENDING", "-5.00"), ("REFUND", "PENDING", "-20.00"), ("SALE", "PENDING", "25.00")],
            "0.00",
        ),
    ],
)
def test_events_dispatched_latest_first_and_twice_book_each_entry_once(
    gql, parties, make_listing, django_capture_on_commit_callbacks, ending, expected, balance
):
    seller, seller_token, buyer, _ = parties
    with django_capture_on_commit_callbacks(execute=False):  # nothing dispatched: the events wait
        order = services.purchase_listing(
            buyer=buyer, listing=make_listing(seller, price="25.00"), idempotency_key="reordered-key-2"
        )
        services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
        services.mark_order_delivered(order=order, actor=buyer)
        if ending == "accepted":
            services.accept_order(order=order, actor=buyer)
        else:
            services.refund_order(order=order, actor=None, reason="Not as described")
    dispatch_reversed_twice(lifecycle_events(order))
    assert sorted(entries_of(gql, seller_token)) == expected
    assert balance_of(gql, seller_token) == ("0.00", balance, "0.00")


def test_an_add_on_books_its_proceeds_and_the_commission_of_the_grown_order(
    api, parties, make_listing, django_capture_on_commit_callbacks
):
    seller, seller_token, buyer, buyer_token = parties
    buy(api, buyer_token, make_listing(seller, price="10.00"))  # 2.95 flat
    add_on = make_listing(seller, price="40.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_to_order(buyer=buyer, order=Order.objects.get(), listing=add_on, idempotency_key="add-1")
    assert balance_of(api, seller_token) == ("40.00", "0.00", "0.00")  # 50.00 less 20%
    assert sorted(entries_of(api, seller_token)) == [
        ("COMMISSION", "PENDING", "-2.95"),
        ("COMMISSION", "PENDING", "-7.05"),
        ("SALE", "PENDING", "10.00"),
        ("SALE", "PENDING", "40.00"),
    ]


def test_the_acceptance_window_passing_makes_the_sale_available(
    api, parties, make_listing, django_capture_on_commit_callbacks
):
    seller, seller_token, _, buyer_token = parties
    order = buy(api, buyer_token, make_listing(seller, price="25.00"))
    api(SHIP, {"input": {"orderId": order["id"], "trackingNumber": "1Z999AA10123456784"}}, token=seller_token)
    delivered_long_ago = timezone.now() - timedelta(days=4)
    Order.objects.update(status=Order.Status.DELIVERED, delivered_at=delivered_long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        marketplace_tasks.auto_accept_orders()
    assert balance_of(api, seller_token) == ("0.00", "20.00", "0.00")
