"""A buyer's case about an order (not as described, damaged, counterfeit, missing): photos, the
parties' messages, staff's resolution, and its history of events (the audit)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Order

TEXT_MAX_LENGTH = 2000


class Case(models.Model):
    class Reason(models.TextChoices):
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        DAMAGED = "damaged", "Damaged"
        COUNTERFEIT = "counterfeit", "Counterfeit"
        MISSING = "missing", "Missing"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REFUNDED = "refunded", "Refunded to the buyer"
        RELEASED = "released", "Released to the seller"
        WITHDRAWN = "withdrawn", "Withdrawn (the buyer accepted the order)"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cases")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_opened")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_received")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.TextField(max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    seller_answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=200, blank=True, help_text="Staff's word to both parties.")
    return_label_url = models.URLField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "-opened_at", "-id"], name="case_buyer_list_idx"),
            models.Index(fields=["seller", "-opened_at", "-id"], name="case_seller_list_idx"),
        ]
        constraints = [
            # One open case per order, whatever the concurrency: the funds are held once.
            models.UniqueConstraint(fields=["order"], condition=Q(status="open"), name="case_one_open_per_order"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="case_closed_stamped",
            ),
        ]

    def __str__(self):
        return f"Case {self.pk} · {self.get_reason_display()} · {self.get_status_display()}"


class CasePhoto(models.Model):
    """A photo of the problem, normalised like listing photos (marketplace.images: upright, no EXIF)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField()
    original = models.CharField(max_length=255, help_text="Storage path of the normalised photo.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["position", "id"]


class CaseMessage(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class CaseEvent(models.Model):
    """Every step of a case, by whom (null: the platform), in order: the audit staff read."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened by the buyer"
        SELLER_ANSWERED = "seller_answered", "Answered by the seller"
        MESSAGE = "message", "Message"
        REFUNDED = "refunded", "Refunded by staff"
        RETURN_LABEL = "return_label", "Return label bought"
        RELEASED = "released", "Released to the seller by staff"
        WITHDRAWN = "withdrawn", "Withdrawn: the buyer accepted the order"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
