"""Carriers behind one small interface (base.Carrier); SHIPPING_CARRIER names the one in use."""

from django.conf import settings
from django.utils.module_loading import import_string

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

CARRIERS = {"dev": "shipping.carriers.dev.DevCarrier", "easypost": "shipping.carriers.easypost.EasyPostCarrier"}

__all__ = [
    "Address",
    "Carrier",
    "CarrierRefused",
    "CarrierUnavailable",
    "Label",
    "LabelRequest",
    "TrackingDetail",
    "TrackingUpdate",
    "carrier_named",
    "current_carrier",
]


def current_carrier() -> Carrier:
    return carrier_named(settings.SHIPPING_CARRIER)


def carrier_named(name: str) -> Carrier:
    """The carrier a shipment was made with (its `carrier_name`), to act on what it bought."""
    return import_string(CARRIERS[name])()
