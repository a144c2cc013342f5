"""Domain events: written with the change, handed to subscribers once committed, swept if lost."""

from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import events, services, tasks
from marketplace.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """Subscribe a recorder to every event name (on a fresh registry): `heard` lists (name, payload)."""
    monkeypatch.setattr(events, "_subscribers", defaultdict(list))
    received = []
    for name in DomainEvent.Name:
        events.subscribe(name, lambda event: received.append((event.name, event.payload)))
    return received


def amounts_of(order, buyer, seller, item_total="25.00", shipping_fee="6.49", discount_total="0.00", total="31.49"):
    """What every order event says of its order."""
    return {
        "order_id": order.pk,
        "buyer_id": buyer.pk,
        "seller_id": seller.pk,
        "currency": "USD",
        "item_total": item_total,
        "shipping_fee": shipping_fee,
        "discount_total": discount_total,
        "total": total,
    }


def test_subscribers_hear_of_a_sale_once_it_committed(
    make_user, make_buyer, make_listing, heard, django_capture_on_commit_callbacks
):
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
    assert heard == []  # not before commit
    for callback in pending:
        callback()
    assert heard == [
        (
            "order_placed",
            {**amounts_of(order, buyer, seller), "source": "purchase"},
        ),
        ("first_sale", {"order_id": order.pk, "seller_id": seller.pk}),
    ]
    assert not DomainEvent.objects.filter(dispatched_at__isnull=True).exists()
    events.dispatch(DomainEvent.objects.first().pk)  # dispatched already: not handed out again
    assert len(heard) == 2


def test_a_first_sale_is_the_sellers_first_order_not_cancelled(make_user, make_buyer, make_listing):
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")

    def buy(key):
        return services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key=key)

    first = buy("one")
    services.cancel_order(order=first, actor=buyer)
    second = buy("two")
    buy("three")
    first_sales = DomainEvent.objects.filter(name="first_sale").order_by("pk")
    assert list(first_sales.values_list("payload__order_id", flat=True)) == [first.pk, second.pk]


def test_the_sweep_dispatches_events_whose_task_was_lost_and_a_failing_handler_is_retried(
    make_user, make_buyer, make_listing, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "_subscribers", defaultdict(list))
    calls = []

    def flaky(event):
        calls.append(event.name)
        if len(calls) == 1:
            raise ConnectionError("the consumer's store is down")

    events.subscribe(DomainEvent.Name.FIRST_SALE, flaky)
    seller, _ = make_user("ava")
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got the tasks
        services.purchase_listing(buyer=make_buyer("marco")[0], listing=make_listing(seller), idempotency_key="k")
    tasks.sweep_checkout()
    assert calls == []  # too recent: their tasks may still be on their way
    DomainEvent.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    with pytest.raises(ConnectionError):
        tasks.sweep_checkout()
    assert DomainEvent.objects.get(name="first_sale").dispatched_at is None
    tasks.sweep_checkout()
    assert calls == ["first_sale", "first_sale"]
    assert not DomainEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_unknown_event_names_are_a_programming_error():
    with pytest.raises(ValueError):
        events.subscribe("order_exploded", print)


def test_a_cancelled_order_is_announced_with_who_cancelled_it(
    make_user, make_buyer, make_listing, heard, django_capture_on_commit_callbacks
):
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")
    order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=buyer)
    assert heard[-1] == (
        "order_cancelled",
        {**amounts_of(order, buyer, seller), "by": "buyer", "cancelled_by": "buyer"},
    )


def test_every_step_of_an_order_is_announced_with_its_amounts(
    make_user, make_buyer, make_listing, heard, django_capture_on_commit_callbacks
):
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
        services.add_to_order(
            buyer=buyer, order=order, listing=make_listing(seller, price="10.00"), idempotency_key="a"
        )
        services.ship_order(order=order, actor=None, tracking_number="9400100000000000000000", carrier="USPS")
        services.mark_order_in_transit(order=order, actor=None)
        services.mark_order_delivered(order=order, actor=None)
        services.accept_order(order=order, actor=buyer)
    amounts = amounts_of(order, buyer, seller, item_total="35.00", total="41.49")
    assert heard[2:] == [
        ("order_item_added", {**amounts, "listing_id": order.lines.last().listing_id, "charged": "10.00"}),
        (
            "order_shipped",
            {**amounts, "by": "platform", "tracking_number": "9400100000000000000000", "carrier": "USPS"},
        ),
        ("order_in_transit", {**amounts, "by": "platform"}),
        ("order_delivered", {**amounts, "by": "platform"}),
        ("order_accepted", {**amounts, "by": "buyer"}),
    ]


def test_a_refund_is_announced_with_its_reason(
    make_user, make_buyer, make_listing, heard, django_capture_on_commit_callbacks
):
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
        services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
        services.refund_order(order=order, actor=None, reason="Arrived damaged.")
    assert heard[-2:] == [
        (
            "order_shipped",
            {
                **amounts_of(order, buyer, seller),
                "by": "seller",
                "tracking_number": "1Z999AA10123456784",
                "carrier": "",
            },
        ),
        ("order_refunded", {**amounts_of(order, buyer, seller), "by": "platform", "refund_reason": "Arrived damaged."}),
    ]
