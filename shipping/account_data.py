"""What exporting a member's data means for shipping (accounts.hooks): the parcels of their orders
and what the carrier reported of them. Deleting keeps them whole, as the orders they belong to
(marketplace.account_data): they are the other party's record too."""

from django.db.models import Q

from shipping.models import Shipment


def export(user) -> dict:
    shipments = (
        Shipment.objects.filter(Q(order__buyer=user) | Q(order__seller=user))
        .prefetch_related("events")
        .order_by("order_id", "direction")
    )
    return {
        "shipments": [
            {
                "orderId": shipment.order_id,
                "direction": shipment.direction,
                "carrier": shipment.carrier,
                "trackingCode": shipment.tracking_code,
                "status": shipment.status,
                "purchasedAt": shipment.purchased_at,
                "events": [
                    {"status": event.status, "message": event.message, "at": event.occurred_at}
                    for event in shipment.events.all()
                ],
            }
            for shipment in shipments
        ]
    }
