"""A buyer's review of an accepted order (stars and a love note), the seller's one answer, and
each seller's running totals, which profiles and listing cards read without aggregating."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Order

NOTE_MAX_LENGTH = 500


class Review(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="review")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_written")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_received")
    rating = models.PositiveSmallIntegerField(help_text="1 to 5 stars.")
    note = models.TextField(
        max_length=NOTE_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(NOTE_MAX_LENGTH)],
        help_text="The love note.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, validators=[MaxLengthValidator(NOTE_MAX_LENGTH)])
    answered_at = models.DateTimeField(null=True, blank=True)
    # Staff's moderation, kept as its audit: who hid it, when and why (hidden ones count nowhere).
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["seller", "-created_at", "-id"],
                condition=Q(hidden_at__isnull=True),
                name="review_seller_list_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__range=(1, 5)), name="review_rating_range"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answer="") | Q(answered_at__isnull=False),
                name="review_answer_stamped",
            ),
        ]

    def __str__(self):
        return f"{self.rating}★ for {self.seller_id} on order {self.order_id}"


class SellerRating(models.Model):
    """A seller's shown reviews, counted and summed in each review's transaction: every listing
    card and profile reads one joined row instead of aggregating the seller's reviews (a feed of 50
    cards would otherwise aggregate 50 sellers' histories in its one query)."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="seller_rating"
    )
    review_count = models.PositiveIntegerField(default=0)
    rating_total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating_total__gte=models.F("review_count"), rating_total__lte=models.F("review_count") * 5),
                name="seller_rating_total_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.seller_id}: {self.review_count} reviews"
