"""Live shows: the room, its co-hosts and line-up, chat and moderation, auctions, the event log.

Constraints keep the room honest even if code is wrong: one co-host row per (show, user), a
listing once per line-up, one running auction per show and per listing, one bid per amount per
auction (so two equal bids can never both stand), one event per (show, seq).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Listing, Order


class Show(models.Model):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_shows")
    title = models.CharField(max_length=80)
    description = models.TextField(max_length=1000, blank=True)
    cover = models.CharField(max_length=255, blank=True, help_text="Storage path of the normalised cover image.")
    scheduled_start = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    is_private = models.BooleanField(
        default=False, help_text="Left out of show lists and reminded only to those who saved it; open by link."
    )
    # The secret of a private show's link (live.services.new_link_token): its ID alone opens nothing.
    link_token = models.CharField(max_length=64, blank=True, default="", editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    featured_listing = models.ForeignKey(Listing, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    slow_mode_seconds = models.PositiveIntegerField(
        default=0, help_text="Seconds a viewer waits between chat messages; 0 is off. Hosts are exempt."
    )
    muted_words = models.JSONField(
        default=list, blank=True, help_text="Chat messages containing one of these words are refused."
    )
    # The sequence number of the last event in the log; writers increment it under this row's
    # lock, so events commit in sequence order (live.events).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "scheduled_start", "id"], name="show_upcoming_idx"),
            models.Index(fields=["state", "-started_at", "-id"], name="show_live_idx"),
            models.Index(fields=["host", "state"], name="show_host_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(slow_mode_seconds__lte=3600), name="show_slow_mode_at_most_an_hour"),
        ]

    def __str__(self):
        return self.title


class CoHost(models.Model):
    """An invitation to co-host; an accepted one shares the room's powers with the host."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REMOVED = "removed", "Removed"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="cohosts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohostings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "co-host"
        constraints = [models.UniqueConstraint(fields=["show", "user"], name="cohost_once_per_show")]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self):
        return f"{self.user} · {self.show} ({self.status})"


class ShowListing(models.Model):
    """A listing in a show's line-up; it may come from any closet, and its sale is its seller's."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="line_up")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="show_entries")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["show", "listing"], name="show_listing_once")]
        indexes = [models.Index(fields=["show", "position"])]

    def __str__(self):
        return f"{self.show} #{self.position}: {self.listing}"


class ShowPass(models.Model):
    """A member who opened a private show by its link: they keep access when the host rotates it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="show_passes")
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="passes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "show"], name="show_pass_once")]


class SavedShow(models.Model):
    """A member's "remind me": saved shows remind them when they go live, private ones included."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_shows")
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="saves")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "show"], name="show_saved_once")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"])]


class ShowMessage(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="show_messages")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["show", "-created_at", "-id"], name="show_message_recent_idx"),
            models.Index(fields=["show", "author", "-created_at"], name="show_message_slow_mode_idx"),
        ]

    def __str__(self):
        return self.body[:60]


class ShowRestriction(models.Model):
    """A moderator's decision about one viewer of one show: muted (reads, cannot chat) or removed
    (cannot watch, chat, bid or buy)."""

    class Kind(models.TextChoices):
        MUTED = "muted", "Muted"
        REMOVED = "removed", "Removed"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="restrictions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="show_restrictions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "user", "kind"], name="show_restriction_once")]

    def __str__(self):
        return f"{self.user} {self.kind} in {self.show}"


class Auction(models.Model):
    """A timed auction of the featured listing. The listing is reserved while it runs; the
    highest bid when the timer ends wins and becomes an order (live.services.close_auction_if_due)."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SETTLING = "settling", "Settling (bidding over, the winner's order being made)"
        SOLD = "sold", "Sold"
        UNSOLD = "unsold", "Unsold (no bids)"
        FAILED = "failed", "Failed (the winner's order could not be made)"
        NOT_MET = "not_met", "Not met (below the owner's floor, or their consent withdrawn)"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="auctions")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="auctions")
    start_price = models.DecimalField(max_digits=10, decimal_places=2)
    floor_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The owner's floor when another member auctions their listing (none for their own).",
    )
    currency = models.CharField(max_length=3)
    duration_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="A bid in the last seconds moves it (anti-sniping).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    high_bid = models.ForeignKey("Bid", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    bid_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When bidding ended.")
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="The winner's order."
    )
    failure_reason = models.CharField(max_length=200, blank=True)
    # Set while the show's stream is down: bidding waits, and resuming moves ends_at by the pause.
    paused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "ends_at"], name="auction_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(start_price__gt=0), name="auction_start_price_positive"),
            models.UniqueConstraint(fields=["show"], condition=Q(state="running"), name="auction_one_running_per_show"),
            models.UniqueConstraint(
                fields=["listing"], condition=Q(state="running"), name="auction_one_running_per_listing"
            ),
        ]

    def __str__(self):
        return f"{self.listing} ({self.state})"


class Bid(models.Model):
    auction = models.ForeignKey(Auction, on_delete=models.CASCADE, related_name="bids")
    bidder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bids")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["auction", "-amount"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bid_amount_positive"),
            models.UniqueConstraint(fields=["auction", "amount"], name="bid_amount_once_per_auction"),
        ]

    def __str__(self):
        return f"{self.bidder} {self.amount}"


class ShowEvent(models.Model):
    """The show's event log: what subscribers were sent, numbered per show, kept for a while so
    that a reconnecting viewer catches up from its last number (live.events)."""

    class Type(models.TextChoices):
        SNAPSHOT = "snapshot", "Snapshot"  # sent to one subscriber, never stored
        STATE = "state", "Show state"
        FEATURED = "featured", "Featured listing"
        ITEM_ADDED = "item_added", "Listing added to the line-up"
        ITEM_REMOVED = "item_removed", "Listing removed from the line-up"
        LINE_UP_REORDERED = "line_up_reordered", "Line-up reordered"
        MESSAGE = "message", "Chat message"
        MESSAGE_DELETED = "message_deleted", "Chat message deleted"
        SLOW_MODE = "slow_mode", "Slow mode changed"
        VIEWER_MUTED = "viewer_muted", "Viewer muted"
        VIEWER_UNMUTED = "viewer_unmuted", "Viewer unmuted"
        VIEWER_REMOVED = "viewer_removed", "Viewer removed"
        COHOST_ADDED = "cohost_added", "Co-host joined"
        COHOST_REMOVED = "cohost_removed", "Co-host left"
        AUCTION_STARTED = "auction_started", "Auction started"
        BID = "bid", "Bid"
        AUCTION_EXTENDED = "auction_extended", "Auction extended"
        AUCTION_CLOSED = "auction_closed", "Auction closed"
        SOLD = "sold", "Sold"
        AUCTION_PAUSED = "auction_paused", "Auction paused (the stream is down)"
        AUCTION_RESUMED = "auction_resumed", "Auction resumed"
        STREAM_LIVE = "stream_live", "Stream live"
        STREAM_INTERRUPTED = "stream_interrupted", "Stream interrupted (the host is reconnecting)"
        STREAM_RESUMED = "stream_resumed", "Stream resumed"
        STREAM_ENDED = "stream_ended", "Stream ended"
        VIEWER_COUNT = "viewer_count", "Viewer count"  # coalesced, never stored

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "seq"], name="show_event_seq_unique")]
        indexes = [models.Index(fields=["created_at"], name="show_event_prune_idx")]

    def __str__(self):
        return f"{self.show_id}#{self.seq} {self.type}"


class ShowStream(models.Model):
    """The show's video: the provider it streams on (live.video.base) and what its publishers
    are doing. Waiting until a publisher starts, live while one publishes, interrupted when the
    last one stops, ended with the show."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the host"
        LIVE = "live", "Live"
        INTERRUPTED = "interrupted", "Interrupted (the host is reconnecting)"
        ENDED = "ended", "Ended"

    show = models.OneToOneField(Show, on_delete=models.CASCADE, related_name="stream")
    provider = models.CharField(max_length=40, help_text="The `name` of the video provider the show streams on.")
    provider_room_id = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.WAITING)
    go_live_with_stream = models.BooleanField(
        default=False, help_text="The show goes live (and reminds its audience) when the stream does."
    )
    went_live_at = models.DateTimeField(null=True, blank=True)
    interrupted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.show} on {self.provider} ({self.state})"


class PublishKey(models.Model):
    """A member's stream key for one show (key providers). Only its sha256 is kept: the key is
    shown to its member when issued or rotated, never again. One active key per member and show;
    `publisher_session` names the connection publishing with it, so a second one is refused."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="publish_keys")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="publish_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    publisher_session = models.CharField(max_length=100, blank=True)
    publishing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["show", "member"], condition=Q(revoked_at__isnull=True), name="publish_key_one_active"
            )
        ]

    def __str__(self):
        return f"{self.member} → {self.show}" + (" (revoked)" if self.revoked_at else "")


class Replay(models.Model):
    """The show's recording, watchable afterwards by whoever could watch the show. The provider
    reports recordings (one per publish: a reconnecting host starts a new one); once the show has
    ended they are joined into one MP4 in media storage (live.services.replays), `ready` then."""

    show = models.OneToOneField(Show, on_delete=models.CASCADE, related_name="replay")
    recordings = models.JSONField(
        default=list, help_text="The provider's recordings, in the order reported: media-server paths or file URLs."
    )
    file = models.CharField(max_length=255, blank=True, help_text="Storage path of the MP4 (once ready).")
    duration_seconds = models.FloatField(null=True, blank=True)
    ready = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ready", "-ready_at", "-id"], name="replay_ready_idx")]

    def __str__(self):
        return f"Replay of {self.show}" + ("" if self.ready else " (not ready)")


class ReplayChapter(models.Model):
    """A listing featured in the show, and where in the replay: seconds from the start of the
    recording (the stream's interruptions, absent from it, left out)."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="chapters")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+")
    offset_seconds = models.FloatField()
    featured_at = models.DateTimeField()
    sold_in_show = models.BooleanField(default=False)

    class Meta:
        ordering = ["offset_seconds", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(offset_seconds__gte=0), name="replay_chapter_offset_positive")
        ]

    def __str__(self):
        return f"{self.replay_id} @{self.offset_seconds:.0f}s: {self.listing_id}"
