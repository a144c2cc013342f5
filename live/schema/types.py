"""The show's query types: the show, its line-up, co-hosts, chat history and auctions, with
their relations, and the enums the schema shares."""

import graphene
from django.core.files.storage import default_storage
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config.graphql.node import Node
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import viewer
from live import rules, selectors
from live.models import Auction, Bid, CoHost, Show, ShowEvent, ShowListing, ShowMessage, ShowRestriction, ShowStream
from live.video.base import provider_for
from marketplace.schema import ListingType, Money

ShowState = graphene.Enum.from_enum(Show.State, name="ShowState")
CoHostStatus = graphene.Enum.from_enum(CoHost.Status, name="CoHostStatus")
AuctionState = graphene.Enum.from_enum(Auction.State, name="AuctionState")
StreamState = graphene.Enum.from_enum(
    ShowStream.State, name="StreamState", description="Where the host's video is: waiting, live, interrupted, ended."
)
ShowEventKind = graphene.Enum.from_enum(
    ShowEvent.Type, name="ShowEventKind", description="What a show event is about; see ShowEvent's fields."
)


class ShowRole(graphene.Enum):
    HOST = "host"
    COHOST = "cohost"
    VIEWER = "viewer"


# Query types: the show, its line-up, co-hosts, chat history and auctions, with their relations.


class ShowListingType(DjangoObjectType):
    class Meta:
        model = ShowListing
        name = "ShowListing"
        fields = ("position", "added_at")

    listing = graphene.Field(ListingType, required=True)
    added_by = graphene.Field(UserType, description="The host or co-host who curated it.")


class ShowCoHostType(DjangoObjectType):
    class Meta:
        model = CoHost
        name = "ShowCoHost"
        fields = ("invited_at", "responded_at")

    user = graphene.Field(UserType, required=True)
    status = CoHostStatus(required=True)


class ShowMessageType(DjangoObjectType):
    class Meta:
        model = ShowMessage
        name = "ShowMessage"
        interfaces = (Node,)
        fields = ("body", "created_at")

    author = graphene.Field(UserType, required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(deleted_at__isnull=True, show__in=selectors.visible_shows(viewer(info)))


class BidType(DjangoObjectType):
    class Meta:
        model = Bid
        name = "Bid"
        fields = ("created_at",)

    amount = graphene.Field(Money, required=True)
    bidder = graphene.Field(UserType, required=True)

    def resolve_amount(bid, info):
        return {"amount": bid.amount, "currency": bid.auction.currency}


class AuctionType(DjangoObjectType):
    class Meta:
        model = Auction
        name = "Auction"
        interfaces = (Node,)
        fields = ("duration_seconds", "started_at", "ends_at", "closed_at", "bid_count", "paused_at")

    listing = graphene.Field(ListingType, required=True)
    state = AuctionState(required=True)
    start_price = graphene.Field(Money, required=True)
    current_bid = graphene.Field(Money, description="The high bid; null before the first bid.")
    leader = graphene.Field(UserType, description="Who holds the high bid.")
    next_minimum_bid = graphene.Field(Money, required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.auction_cards(queryset.filter(show__in=selectors.visible_shows(current)), current)

    def resolve_start_price(auction, info):
        return {"amount": auction.start_price, "currency": auction.currency}

    def resolve_current_bid(auction, info):
        return {"amount": auction.high_bid.amount, "currency": auction.currency} if auction.high_bid else None

    def resolve_leader(auction, info):
        return auction.high_bid.bidder if auction.high_bid else None

    def resolve_next_minimum_bid(auction, info):
        return {"amount": rules.minimum_bid(auction), "currency": auction.currency}


class PlaybackProtocol(graphene.Enum):
    HLS = "hls"
    WEBRTC = "webrtc"


class PlaybackType(graphene.ObjectType):
    """What a viewer's player opens. HLS: play `url` as it is (the token is in its path). WebRTC:
    connect to `url` with `token` through the provider's SDK. Ask again before `expiresAt`.
    The picture runs about `latencyMs` behind the server's clock: a countdown to a server time T
    (an auction's endsAt) should reach zero on screen at T + latencyMs, when viewers see it."""

    class Meta:
        name = "Playback"

    url = graphene.String(required=True)
    protocol = PlaybackProtocol(required=True)
    token = graphene.String(description="The viewer's playback token (bound to you and this show).")
    expires_at = graphene.DateTime(required=True)
    latency_ms = graphene.Int(required=True, description="The provider's expected delay behind the server's clock.")


class ShowStreamType(graphene.ObjectType):
    """The host's video. Each change of `state` is also a show event (STREAM_LIVE,
    STREAM_INTERRUPTED, STREAM_RESUMED, STREAM_ENDED)."""

    class Meta:
        name = "ShowStream"

    state = StreamState(required=True)
    goes_live_with_stream = graphene.Boolean(
        required=True, description="The show goes live by itself when the stream does (setShowGoesLiveWithStream)."
    )
    went_live_at = graphene.DateTime()
    interrupted_at = graphene.DateTime(description="Set while the host is reconnecting.")
    ended_at = graphene.DateTime()
    playback = graphene.Field(
        PlaybackType,
        description="For signed-in viewers who may watch the show (null when removed from it, or it is over).",
    )

    def resolve_goes_live_with_stream(stream, info):
        return stream.go_live_with_stream

    def resolve_playback(stream, info):
        current = viewer(info)
        if current is None or stream.state == ShowStream.State.ENDED:
            return None
        if ShowRestriction.Kind.REMOVED in selectors.restrictions_of(stream.show, current):
            return None
        return provider_for(stream).playback(stream, current)


class ShowMessageConnection(graphene.relay.Connection):
    class Meta:
        node = ShowMessageType


class ShowType(DjangoObjectType):
    class Meta:
        model = Show
        name = "Show"
        interfaces = (Node,)
        fields = (
            "title",
            "description",
            "scheduled_start",
            "is_private",
            "started_at",
            "ended_at",
            "slow_mode_seconds",
            "created_at",
        )

    host = graphene.Field(UserType, required=True)
    state = ShowState(required=True)
    cover_url = graphene.String()
    co_hosts = graphene.List(graphene.NonNull(UserType), required=True, description="Accepted co-hosts.")
    co_host_invitations = graphene.List(
        graphene.NonNull(ShowCoHostType), description="Every invitation and its answer; the host's only."
    )
    line_up = graphene.List(
        graphene.NonNull(ShowListingType),
        required=True,
        description="In order; listings sold or removed meanwhile drop out.",
    )
    featured_listing = graphene.Field(ListingType)
    stream = graphene.Field(ShowStreamType, description="The host's video; null until the host sets it up.")
    current_auction = graphene.Field(AuctionType, description="The running auction, if any.")
    viewer_count = graphene.Int(required=True, description="Viewers watching now (showEvents subscriptions).")
    save_count = graphene.Int(required=True)
    viewer_has_saved = graphene.Boolean(required=True)
    viewer_role = graphene.Field(ShowRole, description="Null when anonymous.")
    muted_words = graphene.List(graphene.NonNull(graphene.String), description="Hosts and co-hosts only.")
    last_seq = graphene.Int(
        required=True,
        description="The sequence number of the show's last event: subscribe with afterSeq to get what follows.",
    )
    messages = graphene.Field(ShowMessageConnection, **connection_args(), description="Chat, newest first.")
    link_token = graphene.String(
        description="The secret of the show's link (show(id, linkToken)); hosts and "
        "co-hosts only. rotateShowLink replaces it."
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.show_cards(selectors.visible_shows(current), current)

    def resolve_cover_url(show, info):
        return default_storage.url(show.cover) if show.cover else None

    def resolve_co_hosts(show, info):
        return [cohost.user for cohost in show.accepted_cohosts]

    def resolve_co_host_invitations(show, info):
        if _role(show, info) != ShowRole.HOST:
            return None
        return show.cohosts.exclude(status=CoHost.Status.REMOVED).select_related("user").order_by("invited_at", "pk")

    def resolve_line_up(show, info):
        return show.visible_line_up

    def resolve_stream(show, info):
        return selectors.stream_of(show)

    def resolve_current_auction(show, info):
        return show.running_auctions[0] if show.running_auctions else None

    def resolve_viewer_count(show, info):
        if not hasattr(show, "viewer_count"):
            selectors.attach_viewer_counts([show])
        return show.viewer_count

    def resolve_viewer_role(show, info):
        return _role(show, info)

    def resolve_link_token(show, info):
        return show.link_token if _role(show, info) in (ShowRole.HOST, ShowRole.COHOST) else None

    def resolve_muted_words(show, info):
        return show.muted_words if _role(show, info) in (ShowRole.HOST, ShowRole.COHOST) else None

    def resolve_messages(show, info, first=None, after=None):
        return keyset_page(
            selectors.messages(show, viewer(info)),
            ShowMessageConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )


class ShowConnection(graphene.relay.Connection):
    class Meta:
        node = ShowType


def _role(show, info):
    current = viewer(info)
    if current is None:
        return None
    if current.pk == show.host_id:
        return ShowRole.HOST
    if any(cohost.user_id == current.pk for cohost in show.accepted_cohosts):
        return ShowRole.COHOST
    return ShowRole.VIEWER


def _shows_page(shows, *, first, after, ordering):
    page = keyset_page(shows, ShowConnection, first=first, after=after, ordering=ordering)
    selectors.attach_viewer_counts([edge.node for edge in page.edges])
    return page
