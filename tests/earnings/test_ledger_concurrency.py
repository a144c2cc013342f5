"""The ledger under real concurrency on PostgreSQL: 50 purchases at once, their orders accepted,
cancelled or refunded at once, every event re-delivered latest first while sellers request
payouts several times at once, through Stripe Connect (the SDK against the local fake). Every
balance equals the sum of its entries, and every seller is paid exactly what they earned, once, as
Stripe's records show."""

import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from earnings import services as earnings_services
from earnings.models import EarningsAccount, EarningsSettings, LedgerEntry, Payout
from marketplace import events
from marketplace import services as marketplace_services
from marketplace.models import DomainEvent, Order
from tests.conftest import GraphQLClient
from tests.earnings.conftest import REQUEST_PAYOUT
from tests.fakes.stripe_connect import complete_onboarding, fund, transfers
from tests.helpers import gid, race
from tests.marketplace.checkout_api import PURCHASE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SELLERS, PURCHASES = 10, 50
# Each seller's net of a sale of their listing: 10.00 less the 2.95 flat fee, 30.00 less 20%.
NET = {Decimal("10.00"): Decimal("7.05"), Decimal("30.00"): Decimal("24.00")}


def in_batches(calls, size=40):
    """`race` in batches: each call holds a database connection while it runs."""
    results = []
    for start in range(0, len(calls), size):
        results += race(calls[start : start + size])
    return results


def purchase(token, listing, key):
    def call():
        variables = {"input": {"listingId": gid(listing), "idempotencyKey": key}}
        return GraphQLClient()(PURCHASE, variables, token=token)["data"]["purchaseListing"]

    return call


def live_out(order_id, ending):
    """One order's life after purchase, to its end: accepted, cancelled by its buyer, or refunded."""

    def call():
        order = Order.objects.select_related("buyer", "seller").get(pk=order_id)
        if ending == "cancelled":
            return marketplace_services.cancel_order(order=order, actor=order.buyer).status
        marketplace_services.ship_order(order=order, actor=order.seller, tracking_number=f"1Z{order_id:08}")
        if ending == "accepted":
            return marketplace_services.accept_order(order=order, actor=order.buyer).status
        return marketplace_services.refund_order(order=order, actor=None, reason="Damaged").status

    return call


def redeliver(event_id):
    def call():
        DomainEvent.objects.filter(pk=event_id).update(dispatched_at=None)
        events.dispatch(event_id)
        return "dispatched"

    return call


def request_payout(token):
    return lambda: GraphQLClient()(REQUEST_PAYOUT, {"input": {"currency": "USD"}}, token=token)["data"]["requestPayout"]


def total(entries, **filters) -> Decimal:
    return entries.filter(**filters).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def test_concurrent_sales_lifecycles_redeliveries_and_payouts_keep_every_balance_exact(
    make_user, make_buyer, make_listing, stripe_connect
):
    EarningsSettings.objects.update_or_create(pk=1, defaults={"payout_minimum": Decimal("0.01")})
    sellers = [make_user(f"seller{index}") for index in range(SELLERS)]
    listings = [
        make_listing(sellers[index % SELLERS][0], title=f"Item {index}", price="10.00" if index % 3 else "30.00")
        for index in range(PURCHASES)
    ]
    tokens = [make_buyer(f"buyer{index}")[1] for index in range(PURCHASES)]
    bought = race([purchase(tokens[index], listings[index], f"buy-{index:04}") for index in range(PURCHASES)])
    assert all(payload["errors"] == [] for payload in bought), bought
    assert Order.objects.count() == PURCHASES

    endings = {}
    for index, order in enumerate(Order.objects.order_by("pk")):
        endings[order.pk] = ("accepted", "cancelled", "refunded", "accepted")[index % 4]
    lived = in_batches([live_out(order_id, ending) for order_id, ending in endings.items()])
    assert sorted(lived) == sorted(Order.Status(ending) for ending in endings.values())

    for seller, _ in sellers:
        account, _ = earnings_services.connect_payout_account(seller=seller, country="US")
        complete_onboarding(stripe_connect, account.account_id)
    fund(stripe_connect, 1_000_000)
    redeliveries = [redeliver(pk) for pk in DomainEvent.objects.order_by("-pk").values_list("pk", flat=True)]
    payout_requests = [request_payout(token) for _, token in sellers for _ in range(3)]
    calls = redeliveries + payout_requests
    random.Random(17).shuffle(calls)
    in_batches(calls)
    in_batches([request_payout(token) for _, token in sellers for _ in range(3)])  # what the redeliveries left

    for account in EarningsAccount.objects.all():
        entries = LedgerEntry.objects.filter(seller=account.seller, currency=account.currency)

        assert account.pending == total(entries, state=LedgerEntry.State.PENDING) == 0
        assert account.available == total(entries, state=LedgerEntry.State.AVAILABLE) == 0
        assert account.paid_out == -total(entries, kind__in=[LedgerEntry.Kind.PAYOUT, LedgerEntry.Kind.REVERSAL])
        earned = sum(
            (
                NET[order.item_total]
                for order in Order.objects.filter(seller=account.seller, status=Order.Status.ACCEPTED)
            ),
            Decimal("0.00"),
        )
        assert account.paid_out == earned
        for kind in (LedgerEntry.Kind.SALE, LedgerEntry.Kind.COMMISSION):
            assert entries.filter(kind=kind).count() == Order.objects.filter(seller=account.seller).count()
        assert entries.filter(kind=LedgerEntry.Kind.REFUND).count() == (
            Order.objects.filter(seller=account.seller).exclude(status=Order.Status.ACCEPTED).count()
        )

    # Stripe's records: one transfer per paid payout, and each seller's transfers add up to what the
    # ledger says was paid out.
    made = transfers(stripe_connect)
    assert len(made) == Payout.objects.filter(status=Payout.Status.PAID).count() == Payout.objects.count()
    assert sorted(each["id"] for each in made) == sorted(Payout.objects.values_list("reference", flat=True))
    for seller, _ in sellers:
        cents = sum(each["amount"] for each in made if each["destination"] == seller.payout_account.account_id)
        assert Decimal(cents) / 100 == EarningsAccount.objects.get(seller=seller).paid_out
