"""Inbox, outbox, push decisions, devices and per-user limits.

The flow these tables serve is described in notifications/services.py; here are the data and the
constraints that keep it honest even if code is wrong: one inbox row per (recipient, dedupe key),
one push decision per inbox row, one chunk marker per (event, chunk), one owner per device token.
"""

import sys
from array import array

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Staff pick a segment's daily push cap in this range (DESIGN.md §2: 6–16 pushes a day).
SEGMENT_DAILY_CAP_MIN, SEGMENT_DAILY_CAP_MAX = 6, 16
# A member may ask for fewer pushes than any segment gives, never for more than the most generous.
USER_DAILY_CAP_MIN, USER_DAILY_CAP_MAX = 1, SEGMENT_DAILY_CAP_MAX


class Category(models.TextChoices):
    """What a member can switch push on or off for."""

    PRICE_DROPS = "price_drops", "Price drops"
    OFFERS = "offers", "Offers"
    MESSAGES = "messages", "Messages"
    GREETINGS = "greetings", "Greetings and seller messages"
    SHOWS = "shows", "Live shows"
    SOCIAL = "social", "Social"
    PROGRAMS = "programs", "Programs and tips"
    TRANSACTIONAL = "transactional", "Orders and account"


class Kind(models.TextChoices):
    PRICE_DROP = "price_drop", "Price drop"
    OFFER_RECEIVED = "offer_received", "Offer received"
    OFFER_COUNTERED = "offer_countered", "Offer countered"
    OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
    OFFER_DECLINED = "offer_declined", "Offer declined"
    OFFER_EXPIRED = "offer_expired", "Offer expired"
    OFFER_TO_LIKERS = "offer_to_likers", "Offer to likers"
    ITEM_SOLD = "item_sold", "Item sold"
    ORDER_SHIPPED = "order_shipped", "Order shipped"
    MESSAGE = "message", "Message"
    REVIEW = "review", "Review"
    CASE = "case", "Case about an order"
    GREETING = "greeting", "Greeting"
    UPSELL = "upsell", "Upsell"
    SHOW_LIVE = "show_live", "Show live"
    SHOW_ITEM = "show_item", "Show item"
    COHOST_INVITE = "cohost_invite", "Co-host invitation"
    AUCTION_WON = "auction_won", "Auction won"
    MENTION = "mention", "Mention"
    COMMENT = "comment", "Comment"
    NEW_FOLLOWER = "new_follower", "New follower"
    PROGRAM_NUDGE = "program_nudge", "Program nudge"
    SYSTEM = "system", "System"


# The one table saying which preference governs each kind. Transactional kinds bypass the daily
# cap (never a member's preferences).
CATEGORY_OF_KIND = {
    Kind.PRICE_DROP: Category.PRICE_DROPS,
    Kind.OFFER_RECEIVED: Category.OFFERS,
    Kind.OFFER_COUNTERED: Category.OFFERS,
    Kind.OFFER_ACCEPTED: Category.TRANSACTIONAL,
    Kind.OFFER_DECLINED: Category.OFFERS,
    Kind.OFFER_EXPIRED: Category.OFFERS,
    Kind.OFFER_TO_LIKERS: Category.OFFERS,
    Kind.ITEM_SOLD: Category.TRANSACTIONAL,
    Kind.ORDER_SHIPPED: Category.TRANSACTIONAL,
    Kind.MESSAGE: Category.MESSAGES,
    Kind.GREETING: Category.GREETINGS,
    Kind.UPSELL: Category.GREETINGS,
    Kind.SHOW_LIVE: Category.SHOWS,
    Kind.SHOW_ITEM: Category.SHOWS,
    Kind.COHOST_INVITE: Category.SHOWS,
    Kind.AUCTION_WON: Category.TRANSACTIONAL,
    Kind.MENTION: Category.SOCIAL,
    Kind.COMMENT: Category.SOCIAL,
    Kind.NEW_FOLLOWER: Category.SOCIAL,
    Kind.PROGRAM_NUDGE: Category.PROGRAMS,
    Kind.SYSTEM: Category.TRANSACTIONAL,
    Kind.REVIEW: Category.SOCIAL,
    Kind.CASE: Category.TRANSACTIONAL,
}


class Target(models.Model):
    """The object a notification is about (a listing, an offer, a show...), whatever its app."""

    target_content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_content_type", "target_object_id")

    class Meta:
        abstract = True


class NotificationEvent(Target):
    """The outbox: one row per notify() call, written in the caller's transaction.

    Chunk tasks turn it into inbox rows and push decisions; `FanOutChunk` markers say which
    chunks are done, and the sweep re-enqueues the rest, so a lost task loses nothing.
    """

    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=140)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    coalesce_key = models.CharField(max_length=200, blank=True)
    replaces = models.BooleanField(
        default=False, help_text="Overwrites earlier rows with the same dedupe key instead of skipping them."
    )
    # Sorted, distinct user ids packed as little-endian int64: 10,000 recipients are 80 kB.
    recipient_ids = models.BinaryField()
    recipient_count = models.PositiveIntegerField()
    chunk_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(default=timezone.now, help_text="When its chunks were last enqueued.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["enqueued_at"], condition=Q(completed_at__isnull=True), name="notif_event_incomplete_idx"
            )
        ]

    def __str__(self):
        return f"{self.kind} · {self.dedupe_key} · {self.recipient_count} recipient(s)"

    @property
    def chunk_count(self) -> int:
        return -(-self.recipient_count // self.chunk_size)

    def chunk(self, index: int) -> list[int]:
        return unpack_ids(self.recipient_ids)[index * self.chunk_size : (index + 1) * self.chunk_size]


def pack_ids(ids) -> bytes:
    packed = array("q", sorted(set(ids)))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack_ids(raw) -> list[int]:
    packed = array("q")
    packed.frombytes(bytes(raw))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tolist()


class FanOutChunk(models.Model):
    """Marks one chunk of an event as done: written in the same transaction as its inbox rows."""

    event = models.ForeignKey(NotificationEvent, on_delete=models.CASCADE, related_name="done_chunks")
    index = models.PositiveIntegerField()
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "index"], name="fanout_chunk_once")]


class Notification(Target):
    """One entry of a person's inbox. Every notification lands here; push is decided apart."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(
        NotificationEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=140)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_once")]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self):
        return f"{self.recipient} · {self.title}"


class PushSegment(models.Model):
    """A group of members with the same default daily push cap, set by the community team."""

    name = models.CharField(max_length=60, unique=True)
    daily_cap = models.PositiveSmallIntegerField(
        help_text=f"Pushes a day, {SEGMENT_DAILY_CAP_MIN}–{SEGMENT_DAILY_CAP_MAX}; transactional ones don't count."
    )
    is_default = models.BooleanField(default=False, help_text="Applies to members without a segment.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_cap__gte=SEGMENT_DAILY_CAP_MIN, daily_cap__lte=SEGMENT_DAILY_CAP_MAX),
                name="push_segment_cap_range",
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="push_segment_one_default"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.daily_cap}/day)"


class NotificationSettings(models.Model):
    """A member's push preferences and limits; created on first use with the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    muted_categories = models.JSONField(default=list, blank=True, help_text="Categories with push off.")
    quiet_hours_start = models.TimeField(null=True, blank=True, help_text="Local time, in the member's time zone.")
    quiet_hours_end = models.TimeField(null=True, blank=True)
    daily_cap_override = models.PositiveSmallIntegerField(null=True, blank=True)
    segment = models.ForeignKey(PushSegment, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")

    class Meta:
        verbose_name_plural = "notification settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_cap_override__isnull=True)
                | Q(daily_cap_override__gte=USER_DAILY_CAP_MIN, daily_cap_override__lte=USER_DAILY_CAP_MAX),
                name="notification_settings_cap_range",
            ),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | (
                    Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False)
                    & ~Q(quiet_hours_start=models.F("quiet_hours_end"))
                ),
                name="notification_settings_quiet_hours",
            ),
        ]

    def __str__(self):
        return f"Notification settings of {self.user_id}"


class Device(models.Model):
    """A push token of one app install, held by the signed-in session that registered it: another
    account's registration of the same token moves it only once that session has ended (logout,
    expiry, or the device deactivated), as a second login on the same phone does
    (notifications.services.register_device)."""

    class Platform(models.TextChoices):
        FCM = "fcm", "Firebase Cloud Messaging (Android)"
        APNS = "apns", "Apple Push Notification service (iOS)"
        WEB_PUSH = "web_push", "Web Push (browser)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    # The session (bearer token) that registered it; null for registrations made before sessions
    # were recorded (or whose session row is gone): those are held while their user has any live one.
    session = models.ForeignKey(
        "accounts.AuthToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="push_devices"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    token = models.CharField(max_length=1024, unique=True)
    name = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    registered_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user"], condition=Q(is_active=True), name="device_active_idx")]

    def __str__(self):
        return f"{self.user_id} · {self.get_platform_display()} · {self.name or self.token[:12]}"


class Outcome(models.TextChoices):
    """The push decision for one inbox row (PushDecision.outcome)."""

    PENDING = "pending", "Pending hand-off"
    SENT = "sent", "Sent"
    HELD = "held", "Held for quiet hours"
    SUPPRESSED_BY_CAP = "suppressed_by_cap", "Suppressed: daily cap"
    OPTED_OUT = "opted_out", "Opted out of the category"
    COALESCED = "coalesced", "Coalesced with a recent push"
    NO_DEVICE = "no_device", "No active device"
    FAILED = "failed", "Failed at the provider"


class PushDecision(models.Model):
    """Whether and why the push for one inbox row went out: what staff read to answer "why?"."""

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="push_decision")
    event = models.ForeignKey(
        NotificationEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="push_decisions"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_decisions")
    category = models.CharField(max_length=32, choices=Category.choices)
    coalesce_key = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True, help_text="Why, in words staff can read.")
    decided_at = models.DateTimeField(default=timezone.now, help_text="When the current outcome was decided.")
    due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Held: when quiet hours end. Pending: not handed off again by the sweep before this.",
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-decided_at"], name="push_decision_recent_idx"),
            models.Index(
                fields=["outcome", "due_at"],
                condition=Q(outcome__in=[Outcome.PENDING, Outcome.HELD]),
                name="push_decision_due_idx",
            ),
            models.Index(fields=["event", "outcome"], name="push_decision_event_idx"),
        ]

    def __str__(self):
        return f"{self.recipient_id} · {self.get_outcome_display()}"
