"""The seller's ledger through GraphQL: a sale books its proceeds and the commission, pending; the
buyer's acceptance makes them available; a cancellation or a refund nets them to zero; duplicated
and reordered events book nothing twice."""

from decimal import Decimal

import pytest

from earnings.models import EarningsSettings, LedgerEntry
from marketplace import events, services
from marketplace.models import DomainEvent, Order
from tests.earnings.conftest import balance_of, buy, entries_of

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
