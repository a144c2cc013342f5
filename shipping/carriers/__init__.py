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
    "current_carrier",
]


def current_carrier() -> Carrier:
    return import_string(CARRIERS[settings.SHIPPING_CARRIER])()
