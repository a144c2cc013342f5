"""A parcel's prepaid label and its carrier tracking: one outbound shipment per order (an order is
one parcel from one seller, a bundle included) and at most one return shipment (cases)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Order


class Shipment(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Seller to buyer"
        RETURN = "return", "Buyer back to seller"

    class Status(models.TextChoices):
        """The carrier's tracking status (EasyPost's names); a label not bought yet is pre-transit."""

        PRE_TRANSIT = "pre_transit", "Label created"
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        RETURNED = "returned", "Returned to sender"
        FAILURE = "failure", "Delivery failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.OUTBOUND)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PRE_TRANSIT)
    carrier_name = models.CharField(max_length=40, help_text="The SHIPPING_CARRIER that bought it (dev, easypost).")
    # The carrier's records: its shipment (kept once created, so a retry buys that one, never a second),
    # the label bought and the tracker that reports on it.
    carrier_shipment_id = models.CharField(max_length=64, blank=True)
    tracker_id = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=40, blank=True, help_text="Who carries it, e.g. USPS.")
    service = models.CharField(max_length=60, blank=True)
    tracking_code = models.CharField(max_length=64, blank=True)
    label_url = models.URLField(max_length=500, blank=True)
    # What the label cost the platform against what the buyer paid for shipping (the flat fee less
    # shipping discounts, the first-sale one included): earnings book the difference as a subsidy.
    currency = models.CharField(max_length=3)
    label_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    shipping_charged = models.DecimalField(max_digits=10, decimal_places=2)
    purchased_at = models.DateTimeField(null=True, blank=True)
    # The order was cancelled after its label was bought: the carrier was asked for the money back.
    refund_requested_at = models.DateTimeField(null=True, blank=True)
    # Until then nobody else tries to buy it: a lease while a task calls the carrier, a back-off after
    # a failure; the sweep retries what is due.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    tracked_at = models.DateTimeField(null=True, blank=True, help_text="The carrier's time of the latest status.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "direction"], name="shipment_one_per_order_and_direction"),
            models.UniqueConstraint(
                fields=["carrier_name", "tracker_id"], condition=~Q(tracker_id=""), name="shipment_tracker_once"
            ),
            models.CheckConstraint(
                condition=Q(label_cost__isnull=True) | Q(label_cost__gte=0), name="shipment_label_cost_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(purchased_at__isnull=True), name="shipment_unbought_idx"
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} of order {self.order_id} · {self.get_status_display()}"

    @property
    def shipping_subsidy(self):
        """What the platform pays on top of the buyer's shipping (negative: the fee covered more), once
        bought; None for a label not bought or given back."""
        if self.label_cost is None or self.refund_requested_at:
            return None
        return self.label_cost - self.shipping_charged


class TrackingEvent(models.Model):
    """One scan or status the carrier reported, kept once however often it is reported again."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=Shipment.Status.choices)
    message = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    key = models.CharField(max_length=64, help_text="Digest of the carrier's detail: the same detail twice is one row.")

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["shipment", "key"], name="tracking_event_once")]

    def __str__(self):
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"
