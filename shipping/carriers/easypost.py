"""EasyPost through its official SDK: labels (create a shipment, buy its lowest rate of the
configured carrier and service) and the tracking webhook (HMAC-signed events of trackers).

EASYPOST_API_BASE points the SDK elsewhere (tests start a local fake of the API on 127.0.0.1).
"""

from contextlib import contextmanager
from decimal import Decimal

import easypost
from django.conf import settings
from django.utils.dateparse import parse_datetime
from easypost.errors import (
    EasyPostError,
    GatewayTimeoutError,
    HttpError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    SignatureVerificationError,
)
from easypost.errors import (
    TimeoutError as EasyPostTimeout,
)
from easypost.util import validate_webhook

from shipping.carriers.base import (
    Address,
    Carrier,
    CarrierRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
    TrackingDetail,
    TrackingUpdate,
)

# Worth trying again later: the request may not have reached EasyPost, or it failed on their side.
TRANSIENT = (
    EasyPostTimeout,
    HttpError,
    GatewayTimeoutError,
    InternalServerError,
    ServiceUnavailableError,
    RateLimitError,
)

# EasyPost's tracker statuses in ours; the ones missing (unknown, cancelled) say nothing new.
STATUSES = {
    "pre_transit": "pre_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "out_for_delivery",
    "delivered": "delivered",
    "return_to_sender": "returned",
    "failure": "failure",
    "error": "failure",
}
TRACKER_EVENTS = {"tracker.created", "tracker.updated"}


class WebhookRefused(Exception):
    """Not signed with our secret, or not readable: nothing may change."""


class EasyPostCarrier(Carrier):
    name = "easypost"

    def __init__(self):
        self.client = easypost.EasyPostClient(
            settings.EASYPOST_API_KEY, api_base=settings.EASYPOST_API_BASE, timeout=settings.EASYPOST_TIMEOUT
        )

    def create_shipment(self, request: LabelRequest) -> str:
        with _translated_errors():
            shipment = self.client.shipment.create(
                reference=request.reference,
                from_address=_address(request.ship_from),
                to_address=_address(request.ship_to),
                parcel={"weight": request.weight_oz},
                is_return=request.is_return,
                options={"label_format": "PDF"},
            )
        return shipment.id

    def buy_label(self, shipment_id: str) -> Label:
        with _translated_errors():
            shipment = self.client.shipment.retrieve(shipment_id)
            if not shipment.get("postage_label"):  # else an attempt whose answer was lost bought it
                rate = shipment.lowest_rate(carriers=[settings.EASYPOST_CARRIER], services=[settings.EASYPOST_SERVICE])
                shipment = self.client.shipment.buy(shipment_id, rate=rate)
        label, rate, tracker = shipment.postage_label, shipment.selected_rate, shipment.get("tracker")
        return Label(
            carrier=rate.carrier,
            service=rate.service,
            tracking_code=shipment.tracking_code,
            label_url=label.get("label_pdf_url") or label.label_url,
            tracker_id=tracker.id if tracker else "",
            cost=Decimal(str(rate.rate)),
            currency=rate.currency,
        )

    def refund_label(self, shipment_id: str) -> None:
        with _translated_errors():
            shipment = self.client.shipment.retrieve(shipment_id)
            if not shipment.get("refund_status"):  # else asked already
                self.client.shipment.refund(shipment_id)


def parse_webhook(body: bytes, headers) -> TrackingUpdate | None:
    """The tracker update a signed EasyPost event carries; None for an event of anything else."""
    if not settings.EASYPOST_WEBHOOK_SECRET:  # an empty key would let anyone sign
        raise WebhookRefused("EASYPOST_WEBHOOK_SECRET is not set.")
    try:
        event = validate_webhook(body, headers, settings.EASYPOST_WEBHOOK_SECRET)
    except (SignatureVerificationError, ValueError) as error:  # ValueError: signed but not JSON
        raise WebhookRefused(str(error)) from error
    if not isinstance(event, dict) or event.get("description") not in TRACKER_EVENTS:
        return None
    tracker = event.get("result") or {}
    status, updated_at = STATUSES.get(tracker.get("status")), parse_datetime(str(tracker.get("updated_at") or ""))
    if not tracker.get("id") or status is None or updated_at is None:
        return None
    return TrackingUpdate(
        tracker_id=str(tracker["id"]),
        status=status,
        updated_at=updated_at,
        details=tuple(_details(tracker.get("tracking_details") or [])),
    )


def _details(details: list) -> list[TrackingDetail]:
    found = []
    for detail in details:
        status, at = STATUSES.get(detail.get("status")), parse_datetime(str(detail.get("datetime") or ""))
        if status is None or at is None:
            continue
        place = detail.get("tracking_location") or {}
        location = ", ".join(str(place[part]) for part in ("city", "state", "country") if place.get(part))
        found.append(TrackingDetail(status, str(detail.get("message") or "")[:300], location[:120], at))
    return found


def _address(address: Address) -> dict:
    return {
        "name": address.name,
        "street1": address.street1,
        "street2": address.street2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "phone": address.phone,
    }


@contextmanager
def _translated_errors():
    """The SDK's errors as the interface's: transient ones to retry, the rest refused."""
    try:
        yield
    except TRANSIENT as error:
        raise CarrierUnavailable(str(error)[:200]) from error
    except EasyPostError as error:
        raise CarrierRefused(str(error)[:200]) from error
