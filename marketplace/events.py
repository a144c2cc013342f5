"""Domain events of the marketplace, for the apps that react to sales and offers.

A service records an event in the transaction of the change it describes (`record`): one outbox
row (`DomainEvent`), so a rolled-back purchase announces nothing. Once committed, a Celery task
hands the event to every handler subscribed to its name, then marks it dispatched; a beat task
(`dispatch_pending_events`) re-dispatches events whose task was lost. Delivery is at least once:
handlers must be idempotent (key their work on `event.pk`).

Subscribe in your AppConfig.ready():

    from marketplace import events
    from marketplace.models import DomainEvent, Order

    events.subscribe(DomainEvent.Name.FIRST_SALE, start_mentoring)   # start_mentoring(event)

Names and payloads (ids, amounts as strings). Every order event carries the order's amounts as
they are after the change (`order_payload`: order_id, buyer_id, seller_id, currency, item_total,
shipping_fee, discount_total, total), so a ledger can be kept from the events alone:
    order_placed      + source
    order_item_added  + listing_id, charged (what the add-on cost; the totals now include it)
    order_shipped     + tracking_number, carrier, by (seller or platform)
    order_in_transit  + by (platform)
    order_delivered   + by (buyer or platform)
    order_accepted    + by (buyer or platform: after the window, or staff releasing a held order)
    order_cancelled   + by, cancelled_by (buyer, seller or platform)
    order_refunded    + refund_reason (refunded after shipping; the items are not back on sale)
    first_sale       order_id, seller_id   (the seller's first order that is not cancelled)
    offer_received   offer_id, buyer_id, seller_id, recipient_id, amount, currency, source
    offer_countered  offer_id, buyer_id, seller_id, recipient_id, amount, currency
    offer_accepted   offer_id, buyer_id, seller_id, order_id, amount, currency
    offer_declined   offer_id, buyer_id, seller_id, recipient_id
    offer_expired    offer_id, buyer_id, seller_id
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from marketplace import tasks
from marketplace.models import DomainEvent, Order

Handler = Callable[[DomainEvent], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    _subscribers[DomainEvent.Name(name)].append(handler)


def record(name: str, **payload) -> DomainEvent:
    """Write the event in the caller's transaction; it is dispatched once that commits."""
    event = DomainEvent.objects.create(name=DomainEvent.Name(name), payload=payload)
    # robust: the change has committed; if the broker is down, the beat task dispatches it later.
    transaction.on_commit(lambda: tasks.dispatch_event.delay(event.pk), robust=True)
    return event


def order_payload(order: Order) -> dict:
    """What every order event says of the order: its parties and amounts (decimals as strings)."""
    return {
        "order_id": order.pk,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "currency": order.currency,
        "item_total": str(order.item_total),
        "shipping_fee": str(order.shipping_fee),
        "discount_total": str(order.discount_total),
        "total": str(order.total),
    }


def dispatch(event_id: int) -> None:
    """Run the handlers of one event and mark it dispatched (again if it already ran: at least once)."""
    event = DomainEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).first()
    if event is None:
        return
    for handler in _subscribers[event.name]:
        handler(event)
    DomainEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())


def undispatched(*, before: datetime) -> list[int]:
    """Events recorded before `before` and never dispatched: their task was lost or failed."""
    return list(
        DomainEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=before)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
