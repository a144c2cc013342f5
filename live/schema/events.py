"""What showEvents delivers: the event types and the subscription.

Their roots are the dicts of live.payloads, rendered once per event for every viewer, so
executing them reads nothing from the database nor the viewer: showEvents streams them as
SharedEvents, executed once for all who send one selection."""

from datetime import datetime

import graphene
from channels.db import database_sync_to_async

from config.graphql.execution import shared_events
from config.graphql.node import decode_id
from config.graphql.permissions import require_user
from live import room_stream, selectors
from live.schema.types import AuctionState, ShowEventKind, ShowState, StreamState
from marketplace.schema import ListingCondition, ListingStatus, Money


def _datetime(key: str):
    def resolve(payload, info):
        return datetime.fromisoformat(payload[key]) if payload.get(key) else None

    return resolve


class ShowEventUser(graphene.ObjectType):
    id = graphene.ID(required=True, description="The User's global ID.")
    username = graphene.String(required=True)
    avatar_url = graphene.String()


class ShowEventItem(graphene.ObjectType):
    listing_id = graphene.ID(required=True, description="The Listing's global ID.")
    title = graphene.String(required=True)
    price = graphene.Field(Money, required=True)
    status = ListingStatus(required=True)
    brand = graphene.String(required=True)
    size = graphene.String(required=True)
    condition = ListingCondition(required=True)
    cover_image_url = graphene.String()
    seller = graphene.Field(ShowEventUser, required=True, description="The sale is theirs.")


class ShowEventMessage(graphene.ObjectType):
    id = graphene.ID(required=True, description="The ShowMessage's global ID.")
    body = graphene.String(required=True)
    author = graphene.Field(ShowEventUser, required=True)
    created_at = graphene.DateTime(required=True, resolver=_datetime("created_at"))


class ShowEventBid(graphene.ObjectType):
    amount = graphene.Field(Money, required=True)
    bidder = graphene.Field(ShowEventUser, required=True)
    created_at = graphene.DateTime(required=True, resolver=_datetime("created_at"))


class ShowEventAuction(graphene.ObjectType):
    id = graphene.ID(required=True, description="The Auction's global ID (placeBid).")
    state = AuctionState(required=True)
    item = graphene.Field(ShowEventItem, required=True)
    start_price = graphene.Field(Money, required=True)
    current_bid = graphene.Field(Money)
    leader = graphene.Field(ShowEventUser)
    bid_count = graphene.Int(required=True)
    next_minimum_bid = graphene.Field(Money, required=True)
    ends_at = graphene.DateTime(required=True, resolver=_datetime("ends_at"))
    closed_at = graphene.DateTime(resolver=_datetime("closed_at"))
    paused_at = graphene.DateTime(
        resolver=_datetime("paused_at"), description="Set while the stream is down: the clock is stopped."
    )


class ShowSnapshot(graphene.ObjectType):
    """The whole room at one sequence number."""

    state = ShowState(required=True)
    featured = graphene.Field(ShowEventItem)
    line_up = graphene.List(graphene.NonNull(ShowEventItem), required=True)
    auction = graphene.Field(ShowEventAuction, description="The running auction.")
    messages = graphene.List(
        graphene.NonNull(ShowEventMessage), required=True, description="Recent chat, oldest first."
    )
    cohosts = graphene.List(graphene.NonNull(ShowEventUser), required=True)
    stream_state = StreamState(description="The host's video; null when the show has none.")
    slow_mode_seconds = graphene.Int(required=True)
    viewer_count = graphene.Int(required=True)


def _data(key: str):
    return lambda event, info: event["data"].get(key)


class ShowEventType(graphene.ObjectType):
    """One thing that happened in a show. `seq` grows by one per stored event; resume with
    showEvents(afterSeq: seq). The fields set depend on `type`:
    SNAPSHOT snapshot · STATE state · FEATURED item (null: nothing featured) · ITEM_ADDED item ·
    ITEM_REMOVED listingId · LINE_UP_REORDERED listingIds · MESSAGE message · MESSAGE_DELETED
    messageId · SLOW_MODE slowModeSeconds · VIEWER_MUTED / VIEWER_UNMUTED / VIEWER_REMOVED /
    COHOST_ADDED / COHOST_REMOVED user · AUCTION_STARTED / AUCTION_EXTENDED / AUCTION_CLOSED /
    AUCTION_PAUSED / AUCTION_RESUMED auction · BID bid, auction · SOLD item, buyer, price ·
    STREAM_LIVE / STREAM_INTERRUPTED / STREAM_RESUMED / STREAM_ENDED streamState · VIEWER_COUNT
    viewerCount (not stored: its seq is that of the last event you were sent).

    Timing: `at` is when it happened and `serverTime` when the server sent it to you, both on
    the server's clock. Keep `offset = serverTime - your clock at receipt` (the largest seen:
    delivery only delays) and count down to an auction's `endsAt` as `endsAt - (your clock +
    offset)`: bids must reach the server before endsAt, its time. The picture runs
    `playback.latencyMs` behind the server: at endsAt you see what the host said at endsAt -
    latencyMs, so the countdown, not the picture, says when bidding ends (bids in the last
    LIVE_AUCTION_SNIPE_SECONDS move endsAt for everyone). An auction with `pausedAt` set is
    stopped while the host's video is down; AUCTION_RESUMED brings the new endsAt."""

    class Meta:
        name = "ShowEvent"

    seq = graphene.Int(required=True)
    type = ShowEventKind(required=True)
    at = graphene.DateTime(required=True, resolver=_datetime("at"), description="When it happened (server clock).")
    server_time = graphene.DateTime(
        required=True,
        resolver=lambda event, info: datetime.fromisoformat(event.get("server_time") or event["at"]),
        description="When the server sent it to you (server clock): align your countdowns with it.",
    )
    stream_state = StreamState(resolver=_data("stream_state"))
    snapshot = graphene.Field(ShowSnapshot, resolver=_data("snapshot"))
    state = ShowState(resolver=_data("state"))
    item = graphene.Field(ShowEventItem, resolver=_data("item"))
    listing_id = graphene.ID(resolver=_data("listing_id"))
    listing_ids = graphene.List(graphene.NonNull(graphene.ID), resolver=_data("listing_ids"))
    message = graphene.Field(ShowEventMessage, resolver=_data("message"))
    message_id = graphene.ID(resolver=_data("message_id"))
    slow_mode_seconds = graphene.Int(resolver=_data("slow_mode_seconds"))
    user = graphene.Field(ShowEventUser, resolver=_data("user"))
    auction = graphene.Field(ShowEventAuction, resolver=_data("auction"))
    bid = graphene.Field(ShowEventBid, resolver=_data("bid"))
    buyer = graphene.Field(ShowEventUser, resolver=_data("buyer"))
    price = graphene.Field(Money, resolver=_data("price"))
    viewer_count = graphene.Int(resolver=_data("viewer_count"))


class Subscription(graphene.ObjectType):
    show_events = graphene.Field(
        ShowEventType,
        show_id=graphene.ID(required=True),
        link_token=graphene.String(description="From the link of a private show."),
        after_seq=graphene.Int(
            description="The seq of the last event you got: the missed events follow (or a "
            "snapshot when they are too old). Leave out to start with a snapshot."
        ),
        description="Everything that happens in a show, in order; counts you as a viewer while subscribed.",
    )

    async def subscribe_show_events(root, info, show_id, after_seq=None, link_token=None):
        user = require_user(info)
        show_pk = decode_id(show_id, "Show", "showId")
        await database_sync_to_async(selectors.watchable_show)(user, show_pk, link_token)
        return shared_events(room_stream.show_events(info.context, show_pk, user, after_seq))

    def resolve_show_events(event, info, show_id, after_seq=None, link_token=None):
        return event
