"""Seller tools: the figures staff tune, price-drop notices, greetings and their limits."""

from datetime import timedelta
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Listing, ListingPriceChange


class SellerToolSettings(models.Model):
    """The figures of the seller tools, one row that staff edit in the admin (DESIGN.md §2)."""

    price_drop_threshold_percent = models.DecimalField(
        max_digits=4, decimal_places=1, default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("90"))],
        help_text="A drop notifies likers when the price is at least this far below the lowest price they "
                  "were last told of.")
    price_drop_window_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="Further drops within this time of a notified drop replace its notification (latest price) "
                  "instead of sending another.")
    greeting_visit_days = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="A seller may greet people who visited their closet within this many days.")
    greeting_period_days = models.PositiveIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="At most one greeting per visitor per seller within this many days.")

    class Meta:
        verbose_name = verbose_name_plural = "seller tool settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="seller_tool_settings_single_row")]

    def __str__(self):
        return "Seller tool settings"

    @classmethod
    def current(cls) -> "SellerToolSettings":
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def price_drop_window(self) -> timedelta:
        return timedelta(minutes=self.price_drop_window_minutes)

    @property
    def greeting_visit_window(self) -> timedelta:
        return timedelta(days=self.greeting_visit_days)

    @property
    def greeting_period(self) -> timedelta:
        return timedelta(days=self.greeting_period_days)


class PriceDropNotice(models.Model):
    """A price drop likers were told of, with how many were reached (the seller's view).

    A drop within the window of an earlier notice joins it (`window_start`): likers keep one
    notification, rewritten with the latest price.
    """

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_drop_notices")
    price_change = models.OneToOneField(ListingPriceChange, on_delete=models.CASCADE, related_name="price_drop_notice")
    window_start = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                     help_text="The notice whose notification this drop rewrote; empty when it "
                                               "sent its own.")
    previous_price = models.DecimalField(max_digits=10, decimal_places=2,
                                         help_text="The lowest price likers had been told of before the window.")
    new_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    likers_reached = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["listing", "-created_at"])]
        constraints = [models.CheckConstraint(condition=Q(new_price__lt=models.F("previous_price")),
                                              name="price_drop_notice_is_a_drop")]

    def __str__(self):
        return f"{self.listing_id}: {self.previous_price} → {self.new_price} {self.currency}, {self.likers_reached} likers"
