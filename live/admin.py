"""The community team's view of live selling: shows with their co-hosts, line-up and auctions;
chat moderation (delete messages, lift mutes and removals); replays, built again on demand."""

from django.contrib import admin, messages
from django.utils import timezone

from config.errors import ServiceError
from live import services
from live.models import (
    Auction,
    Bid,
    CoHost,
    PublishKey,
    Replay,
    ReplayChapter,
    Show,
    ShowEvent,
    ShowListing,
    ShowMessage,
    ShowRestriction,
    ShowStream,
)


class CoHostInline(admin.TabularInline):
    model = CoHost
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "status", "invited_at", "responded_at")


class ShowListingInline(admin.TabularInline):
    model = ShowListing
    extra = 0
    raw_id_fields = ("listing", "added_by")
    fields = ("position", "listing", "listing_status", "added_by", "added_at")
    readonly_fields = ("listing_status",)
    ordering = ("position", "pk")

    @admin.display(description="listing status")
    def listing_status(self, entry):
        return entry.listing.get_status_display()


class ShowStreamInline(admin.StackedInline):
    """The host's video, read-only: its state comes from the provider's signals."""

    model = ShowStream
    extra = 0
    can_delete = False
    readonly_fields = ("provider", "provider_room_id", "state", "went_live_at", "interrupted_at", "ended_at")
    fields = (
        "provider",
        "provider_room_id",
        "state",
        "go_live_with_stream",
        "went_live_at",
        "interrupted_at",
        "ended_at",
    )


class PublishKeyInline(admin.TabularInline):
    """Stream keys as hashes: staff see who may publish and revoke nothing by hand (end the show)."""

    model = PublishKey
    extra = 0
    can_delete = False
    fields = ("member", "created_at", "revoked_at", "publisher_session", "publishing_since")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AuctionInline(admin.TabularInline):
    model = Auction
    extra = 0
    fields = (
        "listing",
        "state",
        "start_price",
        "floor_price",
        "currency",
        "bid_count",
        "started_at",
        "ends_at",
        "closed_at",
    )
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # auctions start in the room, where the listing is reserved


@admin.register(Show)
class ShowAdmin(admin.ModelAdmin):
    list_display = ("title", "host", "state", "is_private", "scheduled_start", "started_at", "ended_at", "last_seq")
    list_filter = ("state", "is_private")
    search_fields = ("title", "host__username")
    date_hierarchy = "scheduled_start"
    raw_id_fields = ("host", "featured_listing")
    readonly_fields = ("state", "started_at", "ended_at", "last_seq", "created_at")
    inlines = [CoHostInline, ShowListingInline, AuctionInline, ShowStreamInline, PublishKeyInline]
    actions = ["end_shows"]

    @admin.action(description="End the selected shows (as their host)")
    def end_shows(self, request, queryset):
        ended = 0
        for show in queryset.exclude(state=Show.State.ENDED).select_related("host"):
            try:
                services.end_show(show=show, user=show.host)
                ended += 1
            except ServiceError as exc:
                self.message_user(request, f"{show}: {exc}", messages.WARNING)
        self.message_user(request, f"Ended {ended} show(s).", messages.SUCCESS)


class BidInline(admin.TabularInline):
    model = Bid
    extra = 0
    fields = ("bidder", "amount", "created_at")
    readonly_fields = fields
    can_delete = False
    ordering = ("-amount",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Auction)
class AuctionAdmin(admin.ModelAdmin):
    list_display = (
        "listing",
        "show",
        "state",
        "start_price",
        "floor_price",
        "currency",
        "bid_count",
        "ends_at",
        "closed_at",
    )
    list_filter = ("state",)
    search_fields = ("listing__title", "show__title")
    raw_id_fields = ("show", "listing", "high_bid")
    readonly_fields = [field.name for field in Auction._meta.fields]
    inlines = [BidInline]
    actions = ["close_if_due"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Close the selected auctions whose timer is over")
    def close_if_due(self, request, queryset):
        now = timezone.now()
        closed = [
            services.close_auction_if_due(auction_id=pk, now=now)
            for pk in queryset.filter(state=Auction.State.RUNNING).values_list("pk", flat=True)
        ]
        count = sum(1 for auction in closed if auction.state != Auction.State.RUNNING)
        self.message_user(request, f"Closed {count} auction(s).", messages.SUCCESS)


@admin.register(ShowMessage)
class ShowMessageAdmin(admin.ModelAdmin):
    """Chat moderation: delete a message (it disappears from every viewer's screen)."""

    list_display = ("show", "author", "body", "created_at", "deleted_at", "deleted_by")
    list_filter = ("deleted_at",)
    search_fields = ("body", "author__username", "show__title")
    date_hierarchy = "created_at"
    list_select_related = ("show", "author", "deleted_by")
    readonly_fields = [field.name for field in ShowMessage._meta.fields]
    actions = ["delete_for_everyone"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Delete for everyone")
    def delete_for_everyone(self, request, queryset):
        deleted = 0
        for message in queryset.filter(deleted_at__isnull=True).select_related("show"):
            services.delete_message(message=message, user=request.user)
            deleted += 1
        self.message_user(request, f"Deleted {deleted} message(s).", messages.SUCCESS)


@admin.register(ShowRestriction)
class ShowRestrictionAdmin(admin.ModelAdmin):
    """Mutes and removals; deleting one lifts it."""

    list_display = ("show", "user", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "show__title")
    raw_id_fields = ("show", "user", "created_by")


@admin.register(ShowEvent)
class ShowEventAdmin(admin.ModelAdmin):
    """The replay log, read-only: what viewers were sent, in order."""

    list_display = ("show", "seq", "type", "created_at")
    list_filter = ("type",)
    search_fields = ("show__title",)
    ordering = ("-created_at", "-seq")
    readonly_fields = [field.name for field in ShowEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReplayChapterInline(admin.TabularInline):
    model = ReplayChapter
    extra = 0
    fields = ("offset_seconds", "listing", "featured_at", "sold_in_show")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # chapters come from the show's log


@admin.register(Replay)
class ReplayAdmin(admin.ModelAdmin):
    list_display = ("show", "ready", "duration_seconds", "created_at", "ready_at")
    list_filter = ("ready",)
    search_fields = ("show__title", "show__host__username")
    raw_id_fields = ("show",)
    readonly_fields = ("show", "recordings", "file", "duration_seconds", "ready", "created_at", "ready_at")
    inlines = [ReplayChapterInline]
    actions = ["build_again"]

    def has_add_permission(self, request):
        return False  # replays come from the provider's recordings

    @admin.action(description="Build the selected replays again from their recordings")
    def build_again(self, request, queryset):
        built = [services.build_replay(show_id=show_id) for show_id in queryset.values_list("show_id", flat=True)]
        ready = sum(1 for replay in built if replay is not None and replay.ready)
        self.message_user(request, f"{ready} of {len(built)} replays ready.", messages.INFO)
