"""What the shipping services ask of a carrier, whoever it is (SHIPPING_CARRIER chooses).

A label is bought in two steps so that a retry never buys twice: `create_shipment` makes the
carrier's shipment (nothing paid; the services keep its id at once), `buy_label` buys that one —
or, when it was already bought by an attempt whose answer was lost, returns the label it has.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class CarrierUnavailable(Exception):
    """A timeout, a network fault or the carrier's own error: try again later."""


class CarrierRefused(Exception):
    """The carrier will not make this label as asked (an address it cannot deliver to, no rate)."""


@dataclass(frozen=True)
class Address:
    name: str
    street1: str
    street2: str
    city: str
    state: str
    zip: str
    country: str
    phone: str


@dataclass(frozen=True)
class LabelRequest:
    reference: str  # ours, e.g. "order-42": shown in the carrier's dashboard
    ship_from: Address
    ship_to: Address
    weight_oz: int
    is_return: bool = False


@dataclass(frozen=True)
class Label:
    carrier: str
    service: str
    tracking_code: str
    label_url: str
    tracker_id: str
    cost: Decimal
    currency: str


@dataclass(frozen=True)
class TrackingDetail:
    status: str  # one of shipping.models.Shipment.Status
    message: str
    location: str
    occurred_at: datetime


@dataclass(frozen=True)
class TrackingUpdate:
    """What a carrier says of a parcel: its status as of `updated_at` and its history so far."""

    tracker_id: str
    status: str
    updated_at: datetime
    details: tuple[TrackingDetail, ...]


class Carrier:
    name = ""

    def create_shipment(self, request: LabelRequest) -> str:
        """The carrier's id of a new shipment for `request`; nothing is bought."""
        raise NotImplementedError

    def buy_label(self, shipment_id: str) -> Label:
        """Buy the lowest rate of the configured service for the shipment (once: its label if bought)."""
        raise NotImplementedError

    def refund_label(self, shipment_id: str) -> None:
        """Ask for the money of an unused label back (again: no second refund)."""
        raise NotImplementedError
