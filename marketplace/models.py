from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Category(models.Model):
    """A node of the small category tree (Women > Dresses). `path` makes a subtree one prefix match."""

    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(max_length=255, unique=True, editable=False,
                            help_text="Slugs from the root, joined by '/', e.g. women/dresses.")

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "slug"], name="category_slug_unique_per_parent")]

    def __str__(self):
        return self.path

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path}/{self.slug}" if self.parent_id else self.slug
        super().save(*args, **kwargs)


class Listing(models.Model):
    """An item in a seller's closet."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AVAILABLE = "available", "Available"
        # Held for one buyer (an accepted offer being paid, a live auction running): visible
        # like a sold item, never in discovery, not editable until released.
        RESERVED = "reserved", "Reserved"
        SOLD = "sold", "Sold"
        REMOVED = "removed", "Removed"

    class Condition(models.TextChoices):
        NEW_WITH_TAGS = "new_with_tags", "New with tags"
        NEW_WITHOUT_TAGS = "new_without_tags", "New without tags"
        LIKE_NEW = "like_new", "Like new"
        GOOD = "good", "Good"
        FAIR = "fair", "Fair"

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings")
    title = models.CharField(max_length=80)
    # TextField's max_length only sizes form widgets; the validator makes full_clean enforce it.
    description = models.TextField(max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])
    brand = models.CharField(max_length=60, blank=True)
    size = models.CharField(max_length=20, blank=True)
    colour = models.CharField(max_length=30, blank=True)
    condition = models.CharField(max_length=20, choices=Condition.choices, default=Condition.GOOD)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="listings")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    original_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    # Counted on write, not on read: every card of every feed shows it, and "for you" ranks by it.
    # social.services changes it with F() in the transaction that really inserted/deleted a like.
    like_count = models.PositiveIntegerField(default=0, editable=False)
    lowest_notified_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, editable=False,
        help_text="The lowest price likers were last told of (set at publishing; price-drop notices lower it).")
    listed_at = models.DateTimeField(default=timezone.now, help_text="Creation, or publication of a draft.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-listed_at", "-id"], name="listing_discovery_idx"),
            models.Index(fields=["seller", "status", "-listed_at"], name="listing_closet_idx"),
            models.Index(fields=["category", "status"], name="listing_category_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="listing_price_positive"),
            models.CheckConstraint(condition=Q(original_price__isnull=True) | Q(original_price__gt=0),
                                   name="listing_original_price_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="listing_quantity_not_negative"),
            models.CheckConstraint(condition=Q(like_count__gte=0), name="listing_like_count_not_negative"),
        ]

    def __str__(self):
        return self.title


class ListingPriceChange(models.Model):
    """Every price change, written with it: price-drop notices and "recent drop" ranking read it."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_changes")
    old_price = models.DecimalField(max_digits=10, decimal_places=2)
    new_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["listing", "-changed_at"])]

    def __str__(self):
        return f"{self.listing_id}: {self.old_price} → {self.new_price} {self.currency}"


class ListingImage(models.Model):
    """A photo of a listing. The lowest `position` is the cover.

    `original` is the normalised upload (oriented, EXIF stripped, re-encoded); `renditions` maps
    each display size name (settings.LISTING_IMAGE_WIDTHS) to its storage path once a task made it.
    """

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveIntegerField()
    original = models.CharField(max_length=255, help_text="Storage path of the normalised original.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    renditions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["listing", "position"])]

    def __str__(self):
        return self.original
