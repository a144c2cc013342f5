"""An order's parcels: `Order.shipment` (seller to buyer) and `Order.returnShipment` (a case's
return), added to marketplace's Order type. Tracking is both parties'; the label is its sender's
(the seller's outbound, the buyer's return)."""

import graphene
from graphene_django import DjangoObjectType

from config.graphql.extension import add_fields
from marketplace.schema import OrderType
from shipping import selectors
from shipping.models import Shipment, TrackingEvent

ShipmentStatus = graphene.Enum.from_enum(Shipment.Status, name="ShipmentStatus")


class TrackingEventType(DjangoObjectType):
    class Meta:
        model = TrackingEvent
        name = "TrackingEvent"
        fields = ("message", "location")

    status = graphene.Field(ShipmentStatus, required=True)
    at = graphene.DateTime(required=True, description="When the carrier saw it.")

    def resolve_at(event, info):
        return event.occurred_at


class ShipmentType(DjangoObjectType):
    class Meta:
        model = Shipment
        name = "Shipment"
        fields = ("carrier", "service", "purchased_at")

    status = graphene.Field(ShipmentStatus, required=True)
    tracking_code = graphene.String(description="Once the label is bought.")
    label_url = graphene.String(description="The label's PDF, for whoever sends the parcel; null for the other party.")
    events = graphene.List(graphene.NonNull(TrackingEventType), required=True, description="Oldest first.")

    def resolve_tracking_code(shipment, info):
        return shipment.tracking_code or None

    def resolve_label_url(shipment, info):
        return (shipment.label_url or None) if _sends(shipment, info) else None

    def resolve_events(shipment, info):
        return shipment.events.all()


def _sends(shipment: Shipment, info) -> bool:
    order = shipment.order  # the order the card loaded (Django keeps the reverse link of a prefetch)
    sender_id = order.seller_id if shipment.direction == Shipment.Direction.OUTBOUND else order.buyer_id
    return info.context.user.pk == sender_id


def resolve_shipment(order, info):
    return selectors.shipment_of(order, Shipment.Direction.OUTBOUND)


def resolve_return_shipment(order, info):
    return selectors.shipment_of(order, Shipment.Direction.RETURN)


add_fields(
    OrderType,
    shipment=graphene.Field(
        ShipmentType, resolver=resolve_shipment, description="The parcel, once the order is placed."
    ),
    return_shipment=graphene.Field(
        ShipmentType, resolver=resolve_return_shipment, description="The parcel sent back, when a case returns it."
    ),
)
