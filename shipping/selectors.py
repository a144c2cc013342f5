"""Reads of shipments, shaped for the order cards that show them."""

from django.db.models import Prefetch

from shipping.models import Shipment, TrackingEvent


def shipments_prefetch(viewer) -> Prefetch:
    """An order's parcels with their tracking history, in two queries for any number of orders
    (registered in marketplace.hooks.ORDER_CARD_PREFETCHES; read back through `shipment_of`)."""
    return Prefetch(
        "shipments",
        queryset=Shipment.objects.prefetch_related(
            Prefetch("events", queryset=TrackingEvent.objects.order_by("occurred_at", "pk"))
        ),
        to_attr="shipments_shown",
    )


def shipment_of(order, direction: str) -> Shipment | None:
    shipments = getattr(order, "shipments_shown", None)
    if shipments is None:  # an order loaded without the cards' prefetch
        shipments = list(order.shipments.prefetch_related("events"))
    return next((shipment for shipment in shipments if shipment.direction == direction), None)
