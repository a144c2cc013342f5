"""Labels and tracking: a label requested when an order is placed and bought by a task (once,
whatever the retries), a return label for a case, and the carrier's tracking moving the order.

Locks: buying a label claims the shipment with a conditional UPDATE (a lease) and calls the carrier
outside any transaction; a tracking update locks the shipment, then the marketplace's services lock
the order (shipment before order, always).
"""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import ServiceError
from marketplace import services as marketplace_services
from marketplace.models import DiscountTarget, DomainEvent, Order, PostalAddress, ShippingAddress, ShippingRate
from notifications import services as notification_services
from notifications.models import Kind
from shipping import tasks
from shipping.carriers import (
    Address,
    CarrierRefused,
    CarrierUnavailable,
    LabelRequest,
    TrackingDetail,
    TrackingUpdate,
    carrier_named,
    current_carrier,
)
from shipping.carriers.dev import DevCarrier
from shipping.models import Shipment, TrackingEvent

# How far each status is along the way: tracking only ever moves forward.
PROGRESS = {
    Shipment.Status.PRE_TRANSIT: 0,
    Shipment.Status.IN_TRANSIT: 1,
    Shipment.Status.OUT_FOR_DELIVERY: 2,
    Shipment.Status.FAILURE: 3,
    Shipment.Status.RETURNED: 4,
    Shipment.Status.DELIVERED: 5,
}
MOVING = {Shipment.Status.IN_TRANSIT, Shipment.Status.OUT_FOR_DELIVERY, Shipment.Status.DELIVERED}


class MissingShipFrom(Exception):
    """The sender has no default address yet: the label waits for one."""


def on_order_placed(event: DomainEvent) -> None:
    """marketplace.events handler: the new order's label (at least once: one shipment per order)."""
    request_label(order=Order(pk=event.payload["order_id"]))


def on_order_cancelled(event: DomainEvent) -> None:
    """marketplace.events handler: a label bought for a cancelled order is given back, on commit."""
    for shipment_id in _refunds_due().filter(order_id=event.payload["order_id"]).values_list("pk", flat=True):
        transaction.on_commit(lambda shipment_id=shipment_id: tasks.refund_label.delay(shipment_id), robust=True)


@transaction.atomic
def request_label(*, order: Order) -> Shipment | None:
    """The order's outbound shipment, its label bought on commit; None for a cancelled order."""
    order = Order.objects.get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        return None
    shipping_discounts = order.discounts.filter(applies_to=DiscountTarget.SHIPPING).aggregate(total=Sum("amount"))
    return _requested(
        order,
        Shipment.Direction.OUTBOUND,
        shipping_charged=order.shipping_fee - (shipping_discounts["total"] or Decimal("0.00")),
    )


@transaction.atomic
def buy_return_label(*, order: Order) -> Shipment:
    """A label for the buyer to send the order back to the seller (a case resolved with a refund);
    the platform pays it all. Asking again gives the same shipment."""
    return _requested(Order.objects.get(pk=order.pk), Shipment.Direction.RETURN, shipping_charged=Decimal("0.00"))


def _requested(order: Order, direction: str, *, shipping_charged: Decimal) -> Shipment:
    shipment, _ = Shipment.objects.get_or_create(
        order=order,
        direction=direction,
        defaults={"currency": order.currency, "shipping_charged": shipping_charged},
    )
    if shipment.purchased_at is None:
        # robust: the request has committed; if the broker is down, the sweep buys it later.
        transaction.on_commit(lambda: tasks.buy_label.delay(shipment.pk), robust=True)
    return shipment


def buy_label(*, shipment_id: int) -> Shipment | None:
    """Buy a requested label unless it is bought or another attempt holds it; a fault leaves it
    for a later attempt (the sweep). The shipment, bought, or None when nothing was done."""
    now = timezone.now()
    claimed = Shipment.objects.filter(pk=shipment_id, purchased_at__isnull=True, next_attempt_at__lte=now).update(
        next_attempt_at=now + settings.SHIPPING_LABEL_LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    shipment = Shipment.objects.select_related("order").get(pk=shipment_id)
    if shipment.direction == Shipment.Direction.OUTBOUND and shipment.order.status == Order.Status.CANCELLED:
        shipment.delete()  # nothing was bought: nothing to keep
        return None
    carrier = current_carrier()
    try:
        request = _label_request(shipment)
        if not shipment.carrier_shipment_id or shipment.carrier_name != carrier.name:
            shipment.carrier_shipment_id, shipment.carrier_name = carrier.create_shipment(request), carrier.name
            # Kept at once: whatever happens next, a retry buys this shipment, never a second one.
            shipment.save(update_fields=["carrier_shipment_id", "carrier_name"])
        label = carrier.buy_label(shipment.carrier_shipment_id)
    except (CarrierUnavailable, CarrierRefused, MissingShipFrom) as error:
        _try_later(shipment, str(error), now)
        return None
    shipment.carrier, shipment.service, shipment.tracking_code = label.carrier, label.service, label.tracking_code
    shipment.label_url, shipment.tracker_id = label.label_url, label.tracker_id
    shipment.label_cost, shipment.purchased_at, shipment.last_error = label.cost, timezone.now(), ""
    shipment.save(
        update_fields=[
            "carrier",
            "service",
            "tracking_code",
            "label_url",
            "tracker_id",
            "label_cost",
            "purchased_at",
            "last_error",
        ]
    )
    return shipment


def refund_label(*, shipment_id: int) -> Shipment | None:
    """Ask the carrier for the money of a cancelled order's unused label; a fault leaves it to the
    sweep. The shipment once asked, or None when nothing was done."""
    shipment = _refunds_due().filter(pk=shipment_id).first()
    if shipment is None:
        return None
    try:
        carrier_named(shipment.carrier_name).refund_label(shipment.carrier_shipment_id)
    except (CarrierUnavailable, CarrierRefused) as error:
        Shipment.objects.filter(pk=shipment.pk).update(last_error=str(error)[:200])
        return None
    Shipment.objects.filter(pk=shipment.pk, refund_requested_at__isnull=True).update(
        refund_requested_at=timezone.now(), last_error=""
    )
    return Shipment.objects.get(pk=shipment.pk)


def refunds_due() -> list[int]:
    """Labels of cancelled orders not given back yet (a lost task, a carrier fault)."""
    return list(_refunds_due().order_by("pk").values_list("pk", flat=True)[:500])


def _refunds_due():
    return Shipment.objects.filter(
        direction=Shipment.Direction.OUTBOUND,
        purchased_at__isnull=False,
        refund_requested_at__isnull=True,
        order__status=Order.Status.CANCELLED,
    )


def labels_due(*, now: datetime) -> list[int]:
    """Shipments whose label is still to buy and whose attempt is due (a lost task, a fault)."""
    due = Shipment.objects.filter(purchased_at__isnull=True, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])


def _try_later(shipment: Shipment, reason: str, now: datetime) -> None:
    backoff = min(timedelta(minutes=2**shipment.attempts), settings.SHIPPING_LABEL_MAX_BACKOFF)
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=now + backoff, last_error=reason[:200])


def _label_request(shipment: Shipment) -> LabelRequest:
    order = shipment.order
    seller_address = ShippingAddress.objects.filter(user_id=order.seller_id, is_default=True).first()
    if seller_address is None:
        raise MissingShipFrom("The seller has no default address to ship from.")
    parcel = ShippingRate.objects.filter(currency=order.currency).first()
    weight_lb = parcel.max_weight_lb if parcel else settings.SHIPPING_PARCEL_MAX_WEIGHT_LB
    seller, buyer = _address(seller_address), _address(order)
    outbound = shipment.direction == Shipment.Direction.OUTBOUND
    return LabelRequest(
        reference=f"order-{order.pk}-{shipment.direction}",
        ship_from=seller if outbound else buyer,
        ship_to=buyer if outbound else seller,
        weight_oz=weight_lb * 16,
        is_return=not outbound,
    )


def _address(address: PostalAddress) -> Address:
    return Address(
        name=address.recipient_name,
        street1=address.line1,
        street2=address.line2,
        city=address.city,
        state=address.region,
        zip=address.postal_code,
        country=address.country,
        phone=address.phone,
    )


@transaction.atomic
def record_tracking(*, carrier_name: str, update: TrackingUpdate) -> Shipment | None:
    """What the carrier says of a parcel: its history kept once, its status forward only, the
    order moved along (and its buyer told) by the platform. None for a tracker we never bought."""
    shipment = (
        Shipment.objects.select_for_update()
        .select_related("order")
        .filter(carrier_name=carrier_name, tracker_id=update.tracker_id)
        .first()
    )
    if shipment is None:
        return None
    _keep_history(shipment, update.details)
    if shipment.tracked_at and update.updated_at <= shipment.tracked_at:
        return shipment  # older than what we know: a late or replayed event
    shipment.tracked_at = update.updated_at
    moved = PROGRESS[update.status] > PROGRESS[shipment.status]
    if moved:
        shipment.status = update.status
    shipment.save(update_fields=["tracked_at", "status"])
    if moved and shipment.direction == Shipment.Direction.OUTBOUND and shipment.status in MOVING:
        _move_order(shipment)
    return shipment


DEV_SCANS = {
    Shipment.Status.PRE_TRANSIT: (Shipment.Status.IN_TRANSIT, "Accepted at the (development) post office"),
    Shipment.Status.IN_TRANSIT: (Shipment.Status.OUT_FOR_DELIVERY, "Out for delivery (development)"),
    Shipment.Status.OUT_FOR_DELIVERY: (Shipment.Status.DELIVERED, "Delivered (development)"),
}


def simulate_dev_scan(*, shipment: Shipment) -> Shipment | None:
    """The next scan of a dev-carrier parcel, as a carrier's webhook would report it, so that a
    development stack shows tracking move (the admin's action); None when there is no next one."""
    shipment = Shipment.objects.get(pk=shipment.pk)
    following = DEV_SCANS.get(shipment.status)
    if shipment.carrier_name != DevCarrier.name or not shipment.tracker_id or following is None:
        return None
    now = timezone.now()
    detail = TrackingDetail(status=following[0], message=following[1], location="", occurred_at=now)
    history = (*_history_of(shipment), detail)
    update = TrackingUpdate(tracker_id=shipment.tracker_id, status=following[0], updated_at=now, details=history)
    return record_tracking(carrier_name=DevCarrier.name, update=update)


def _history_of(shipment: Shipment) -> list[TrackingDetail]:
    return [
        TrackingDetail(event.status, event.message, event.location, event.occurred_at)
        for event in shipment.events.order_by("occurred_at", "pk")
    ]


def _keep_history(shipment: Shipment, details: tuple[TrackingDetail, ...]) -> None:
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                shipment=shipment,
                status=detail.status,
                message=detail.message,
                location=detail.location,
                occurred_at=detail.occurred_at,
                key=hashlib.sha256(
                    f"{detail.status}|{detail.occurred_at.isoformat()}|{detail.message}".encode()
                ).hexdigest(),
            )
            for detail in details
        ],
        ignore_conflicts=True,
    )


def _move_order(shipment: Shipment) -> None:
    """Shipped, in transit, delivered: each step the order has not taken yet, as the platform."""
    order = shipment.order
    order = _if_allowed(
        order,
        lambda: marketplace_services.ship_order(
            order=order, actor=None, tracking_number=shipment.tracking_code, carrier=shipment.carrier
        ),
    )
    order = _if_allowed(order, lambda: marketplace_services.mark_order_in_transit(order=order, actor=None))
    if shipment.status == Shipment.Status.DELIVERED:
        order = _if_allowed(order, lambda: marketplace_services.mark_order_delivered(order=order, actor=None))
    _tell_buyer(shipment, order)


def _if_allowed(order: Order, step) -> Order:
    try:
        return step()
    except ServiceError:
        return order  # taken already (the seller shipped by hand), or not now (cancelled, accepted)


# What the buyer hears, and the order's status that makes it news (shipped: the marketplace says it).
NEWS = {
    Shipment.Status.OUT_FOR_DELIVERY: (
        Order.Status.IN_TRANSIT,
        "Your order is out for delivery",
        "It should arrive today.",
    ),
    Shipment.Status.DELIVERED: (
        Order.Status.DELIVERED,
        "Your order was delivered",
        "Check your items and accept the order.",
    ),
}


def _tell_buyer(shipment: Shipment, order: Order) -> None:
    order_status, title, body = NEWS.get(shipment.status, (None, "", ""))
    if order_status is None or order.status != order_status:
        return
    notification_services.notify(
        recipient_ids=[order.buyer_id],
        kind=Kind.ORDER_SHIPPED,
        title=title,
        body=body,
        dedupe_key=f"order:{order.pk}:{shipment.status}",
        target=order.lines.first().listing,
        data={"orderId": to_global_id("Order", order.pk)},
    )
