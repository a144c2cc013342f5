from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Abs
from django.db.models.lookups import LessThan
from django.utils import timezone


class Category(models.Model):
    """A node of the small category tree (Women > Dresses). `path` makes a subtree one prefix match."""

    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(
        max_length=255, unique=True, editable=False, help_text="Slugs from the root, joined by '/', e.g. women/dresses."
    )

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
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text="The lowest price likers were last told of (set at publishing; price-drop notices lower it).",
    )
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
            models.CheckConstraint(
                condition=Q(original_price__isnull=True) | Q(original_price__gt=0),
                name="listing_original_price_positive",
            ),
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


# Checkout: addresses, shipping, seller discounts, orders, payments, offers, bundles, domain events.
# Money is Decimal(10, 2) in the order's currency; every total comes from marketplace.pricing.


class DiscountSource(models.TextChoices):
    SELLER = "seller", "Seller"
    BUNDLE = "bundle", "Bundle"
    OFFER = "offer", "Offer"
    PROGRAM = "program", "Program"


class DiscountTarget(models.TextChoices):
    """What a discount takes money off (the values of pricing.ITEMS and pricing.SHIPPING)."""

    ITEMS = "items", "Items"
    SHIPPING = "shipping", "Shipping"


class PostalAddress(models.Model):
    """Where a parcel goes; kept by members (ShippingAddress) and copied into each order."""

    recipient_name = models.CharField(max_length=100)
    line1 = models.CharField(max_length=100)
    line2 = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=60)
    region = models.CharField(max_length=60, blank=True, help_text="State, province or county.")
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. US.")
    phone = models.CharField(max_length=30, blank=True, help_text="For the carrier.")

    ADDRESS_FIELDS = ("recipient_name", "line1", "line2", "city", "region", "postal_code", "country", "phone")

    class Meta:
        abstract = True


class ShippingAddress(PostalAddress):
    """A member's saved address; one of them is their default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shipping_addresses")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "shipping addresses"
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="shipping_address_one_default")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="shipping_address_user_idx")]

    def __str__(self):
        return f"{self.recipient_name}, {self.city} ({self.country})"


class ShippingRate(models.Model):
    """The flat label fee buyers pay per parcel, set by staff per currency (settings give the default)."""

    currency = models.CharField(max_length=3, unique=True)
    label_fee = models.DecimalField(max_digits=10, decimal_places=2)
    max_weight_lb = models.PositiveSmallIntegerField(default=5, help_text="What the prepaid label covers.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(label_fee__gte=0), name="shipping_rate_fee_not_negative")]

    def __str__(self):
        return f"{self.label_fee} {self.currency} up to {self.max_weight_lb} lb"


class SellerDiscounts(models.Model):
    """What a seller takes off their orders: a bundle discount and a share of the shipping fee."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="seller_discounts"
    )
    bundle_percent = models.PositiveSmallIntegerField(default=0, help_text="Off the items of a bundle, 0 for none.")
    bundle_min_items = models.PositiveSmallIntegerField(default=2, help_text="Items a bundle needs for it.")
    shipping_percent = models.PositiveSmallIntegerField(default=0, help_text="Off the label fee of every order.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "seller discounts"
        constraints = [
            models.CheckConstraint(condition=Q(bundle_percent__lte=90), name="seller_bundle_percent_range"),
            models.CheckConstraint(condition=Q(bundle_min_items__gte=2), name="seller_bundle_min_items_range"),
            models.CheckConstraint(condition=Q(shipping_percent__lte=100), name="seller_shipping_percent_range"),
        ]

    def __str__(self):
        return f"Discounts of {self.seller_id}"


class CurationTerms(models.Model):
    """A member's terms for their listings in other members' live shows: whether others may curate
    them into a line-up (yes by default, as always), whether others may auction them (no by
    default), and the floor of such auctions as a share of the list price: an auction that ends
    below it makes no sale. The member's own shows are never bound by them."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="curation_terms"
    )
    allow_curation = models.BooleanField(default=True, help_text="Others may add these listings to their shows.")
    allow_auctions = models.BooleanField(default=False, help_text="Others may auction these listings.")
    auction_floor_percent = models.PositiveSmallIntegerField(
        default=100, help_text="Of the list price: others' auctions start at and sell for no less."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "curation terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(auction_floor_percent__gte=1, auction_floor_percent__lte=100),
                name="curation_auction_floor_percent_range",
            )
        ]

    def __str__(self):
        return f"Curation terms of {self.seller_id}"

    def auction_floor(self, listing: "Listing") -> Decimal:
        """The least another member's auction of `listing` may start at and sell for."""
        return (Decimal(listing.price) * self.auction_floor_percent / 100).quantize(Decimal("0.01"), rounding=ROUND_UP)


class Order(PostalAddress):
    """One parcel from one seller to one buyer: its lines, discounts, payments and shipping state.

    The address fields are a copy of the buyer's address at purchase: editing or removing the saved
    address later never changes where a past order went.
    """

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"
        ACCEPTED = "accepted", "Accepted"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class Source(models.TextChoices):
        """How an item was bought (an order's is its first line's)."""

        PURCHASE = "purchase", "Purchase"
        OFFER = "offer", "Accepted offer"
        BUNDLE = "bundle", "Bundle"
        LIVE_BUY_NOW = "live_buy_now", "Live buy now"
        AUCTION = "auction", "Auction"
        ADD_ON = "add_on", "Add-on"

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PAID)
    source = models.CharField(max_length=16, choices=Source.choices)
    currency = models.CharField(max_length=3)
    item_total = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_fee = models.DecimalField(max_digits=10, decimal_places=2)
    discount_total = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    tracking_number = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=32, blank=True, help_text="Who carries the parcel (USPS, UPS...), if known.")
    placed_at = models.DateTimeField(default=timezone.now)
    add_on_until = models.DateTimeField(help_text="Until then (and unshipped) the buyer may add items to the parcel.")
    shipped_at = models.DateTimeField(null=True, blank=True)
    in_transit_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, blank=True, help_text="buyer, seller or platform.")
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reason = models.CharField(max_length=200, blank=True, help_text="Why staff refunded it after shipping.")

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "-placed_at", "-id"], name="order_buyer_history_idx"),
            models.Index(fields=["seller", "-placed_at", "-id"], name="order_seller_history_idx"),
            models.Index(fields=["delivered_at"], condition=Q(status="delivered"), name="order_awaiting_accept_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="order_not_own_listing"),
            models.CheckConstraint(
                condition=Q(item_total__gt=0, shipping_fee__gte=0, discount_total__gte=0, total__gte=0),
                name="order_amounts_in_range",
            ),
            # total = items + shipping - discounts, to the cent (SQLite compares decimals as floats).
            models.CheckConstraint(
                condition=LessThan(
                    Abs(F("total") - (F("item_total") + F("shipping_fee") - F("discount_total"))), Decimal("0.005")
                ),
                name="order_total_adds_up",
            ),
        ]

    def __str__(self):
        return f"Order {self.pk} · {self.get_status_display()} · {self.total} {self.currency}"


class OrderLine(models.Model):
    """One item of an order, with its title and price as they were when bought."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(max_length=80)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    source = models.CharField(max_length=16, choices=Order.Source.choices)
    # False once the order is cancelled (the unit went back to the listing's stock).
    active = models.BooleanField(default=True)
    # True when this line took the listing's only unit: stock 1 and no other active line. The
    # constraint below then refuses a second such line, so even code that skipped the stock
    # decrement could not sell a one-off item twice.
    sole_unit = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "listing"], name="order_line_listing_once_per_order"),
            models.UniqueConstraint(
                fields=["listing"], condition=Q(active=True, sole_unit=True), name="order_line_sole_unit_sold_once"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="order_line_price_positive"),
        ]

    def __str__(self):
        return f"{self.title} · {self.price}"


class OrderDiscount(models.Model):
    """Money taken off an order, by whom and off what (as applied: capped by what there was)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    source = models.CharField(max_length=10, choices=DiscountSource.choices)
    applies_to = models.CharField(max_length=10, choices=DiscountTarget.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="order_discount_positive")]

    def __str__(self):
        return f"{self.source}: -{self.amount} on {self.applies_to}"


class Payment(models.Model):
    """One authorization at the payment provider and what became of it.

    AUTHORIZED at purchase, then CAPTURED once the order committed, or VOIDED / REFUNDED when it is
    cancelled. The -ING states mark a provider call in flight: whoever moved the payment into one
    makes the call, so concurrent runs never call twice (marketplace.services.settle_payment).
    """

    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        CAPTURING = "capturing", "Capturing"
        CAPTURED = "captured", "Captured"
        CAPTURE_FAILED = "capture_failed", "Capture failed"
        VOIDING = "voiding", "Voiding"
        VOIDED = "voided", "Voided"
        REFUNDING = "refunding", "Refunding"
        REFUNDED = "refunded", "Refunded"
        REFUND_FAILED = "refund_failed", "Refund failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=100, help_text="Dotted path of the provider class.")
    reference = models.CharField(max_length=100, help_text="The provider's authorization reference.")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AUTHORIZED)
    detail = models.CharField(max_length=200, blank=True, help_text="The provider's reason for a failure.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="payment_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.UniqueConstraint(fields=["provider", "reference"], name="payment_reference_unique"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} · {self.get_status_display()}"


class PaymentCustomer(models.Model):
    """A member's customer record at a payment provider (their saved cards live there)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_customers")
    provider = models.CharField(max_length=100, help_text="Dotted path of the provider class.")
    reference = models.CharField(max_length=100, help_text="The provider's customer id.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="payment_customer_once_per_provider")]

    def __str__(self):
        return f"{self.reference} ({self.provider})"


class ProcessedProviderEvent(models.Model):
    """A provider's webhook event once processed: a replay finds it and changes nothing."""

    provider = models.CharField(max_length=100)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="provider_events")
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class Bundle(models.Model):
    """A buyer's pick of items from one closet, checked out as one order (one parcel, one fee)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ORDERED = "ordered", "Ordered"

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bundles")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="bundle")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "seller"], condition=Q(status="open"), name="bundle_one_open"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="bundle_not_own_closet"),
        ]

    def __str__(self):
        return f"Bundle {self.pk} of {self.buyer_id} from {self.seller_id}"


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="bundle_items")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "listing"], name="bundle_item_once")]


class Offer(models.Model):
    """A price negotiation on a listing or a bundle between its buyer and its seller.

    The two sides take turns: `turn` says who may act (accept, decline or counter) on what the
    other proposed. `buyer_amount` and `seller_amount` are each side's latest figure (the seller's
    starts at the list price); a counter must fall strictly between them, so talks converge.
    Accepting buys at the proposed amount. A PENDING offer past `expires_at` is expired, whether or
    not the periodic task has marked it yet.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CANCELLED = "cancelled", "Cancelled (the item sold or was taken down)"

    class Source(models.TextChoices):
        BUYER_OFFER = "buyer_offer", "Buyer's offer"
        OFFER_TO_LIKERS = "offer_to_likers", "Seller's offer to likers"

    class Party(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SELLER = "seller", "Seller"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, null=True, blank=True, related_name="offers")
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, null=True, blank=True, related_name="offers")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers_made")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers_received")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.BUYER_OFFER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    turn = models.CharField(max_length=6, choices=Party.choices)
    currency = models.CharField(max_length=3)
    list_price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Of the listing or bundle, when made.")
    buyer_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    seller_amount = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_discount = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), help_text="Off the label fee if accepted."
    )
    counter_count = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    order = models.OneToOneField(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="offer")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "-updated_at", "-id"], name="offer_buyer_idx"),
            models.Index(fields=["seller", "-updated_at", "-id"], name="offer_seller_idx"),
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="offer_pending_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(listing__isnull=True) ^ Q(bundle__isnull=True), name="offer_on_listing_or_bundle"
            ),
            models.UniqueConstraint(
                fields=["buyer", "listing"], condition=Q(status="pending"), name="offer_one_pending_per_buyer_listing"
            ),
            models.UniqueConstraint(
                fields=["bundle"], condition=Q(status="pending"), name="offer_one_pending_per_bundle"
            ),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="offer_not_own_listing"),
            models.CheckConstraint(
                condition=Q(seller_amount__gt=0, shipping_discount__gte=0)
                & (Q(buyer_amount__isnull=True) | Q(buyer_amount__gt=0)),
                name="offer_amounts_positive",
            ),
        ]

    def __str__(self):
        return f"Offer {self.pk} · {self.amount} {self.currency} · {self.get_status_display()}"

    @property
    def amount(self) -> Decimal:
        """What is on the table: the figure of the side that moved last."""
        return self.buyer_amount if self.turn == self.Party.SELLER else self.seller_amount

    def status_at(self, now) -> str:
        return self.Status.EXPIRED if self.status == self.Status.PENDING and self.expires_at <= now else self.status


class IdempotencyKey(models.Model):
    """A client's key for one write, the fingerprint of its input and what it produced.

    Written in the transaction of the write it names: the unique (user, key) constraint lets one
    of several concurrent retries through, and the others return what that one made.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the operation and its input.")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user"),
            models.CheckConstraint(
                condition=Q(order__isnull=True) | Q(offer__isnull=True), name="idempotency_key_one_result"
            ),
        ]


class DomainEvent(models.Model):
    """The marketplace's outbox for other apps (marketplace/events.py): written with the change."""

    class Name(models.TextChoices):
        ORDER_PLACED = "order_placed", "Order placed"
        FIRST_SALE = "first_sale", "A seller's first sale"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        ORDER_ITEM_ADDED = "order_item_added", "Item added to an order"
        ORDER_SHIPPED = "order_shipped", "Order shipped"
        ORDER_IN_TRANSIT = "order_in_transit", "Order in transit"
        ORDER_DELIVERED = "order_delivered", "Order delivered"
        ORDER_ACCEPTED = "order_accepted", "Order accepted"
        ORDER_REFUNDED = "order_refunded", "Order refunded"
        OFFER_RECEIVED = "offer_received", "Offer received"
        OFFER_COUNTERED = "offer_countered", "Offer countered"
        OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
        OFFER_DECLINED = "offer_declined", "Offer declined"
        OFFER_EXPIRED = "offer_expired", "Offer expired"

    name = models.CharField(max_length=32, choices=Name.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "-created_at"], name="domain_event_name_idx"),
            models.Index(
                fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="domain_event_pending_idx"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.payload}"
