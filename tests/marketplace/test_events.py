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
            {
                "order_id": order.pk,
                "buyer_id": buyer.pk,
                "seller_id": seller.pk,
                "source": "purchase",
                "total": "31.49",
                "currency": "USD",
            },
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
        {"order_id": order.pk, "buyer_id": buyer.pk, "seller_id": seller.pk, "cancelled_by": "buyer"},
    )
