from datetime import datetime

import graphene
from channels.db import database_sync_to_async
from django.core.files.storage import default_storage
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from accounts.schema import UserType, active_member
from config.graphql.execution import shared_events
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_user, viewer
from config.graphql.upload import Upload
from live import room_stream, rules, selectors, services
from live.models import Auction, Bid, CoHost, Show, ShowEvent, ShowListing, ShowMessage, ShowRestriction
from marketplace import selectors as marketplace_selectors
from marketplace.schema import (
    ListingCondition,
    ListingStatus,
    ListingType,
    Money,
    OrderPayload,
    client_key,
    optional_address_id,
)

ShowState = graphene.Enum.from_enum(Show.State, name="ShowState")
CoHostStatus = graphene.Enum.from_enum(CoHost.Status, name="CoHostStatus")
AuctionState = graphene.Enum.from_enum(Auction.State, name="AuctionState")
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
        fields = ("duration_seconds", "started_at", "ends_at", "closed_at", "bid_count")

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


# Event types: what showEvents delivers. Their roots are the dicts of live.payloads, rendered
# once per event for every viewer, so executing them reads nothing from the database nor the
# viewer: showEvents streams them as SharedEvents, executed once for all who send one selection.


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
    COHOST_ADDED / COHOST_REMOVED user · AUCTION_STARTED / AUCTION_EXTENDED / AUCTION_CLOSED
    auction · BID bid, auction · SOLD item, buyer, price · VIEWER_COUNT viewerCount (not stored:
    its seq is that of the last event you were sent)."""

    class Meta:
        name = "ShowEvent"

    seq = graphene.Int(required=True)
    type = ShowEventKind(required=True)
    at = graphene.DateTime(required=True, resolver=_datetime("at"))
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


# Queries


class Query(graphene.ObjectType):
    show = graphene.Field(
        ShowType,
        id=graphene.ID(required=True),
        link_token=graphene.String(description="From the link of a private show."),
        description="A show; null when it does not exist or is hidden from you (a private "
        "one opens with its link's token).",
    )
    upcoming_shows = graphene.Field(ShowConnection, **connection_args(), description="Scheduled shows, soonest first.")
    live_shows = graphene.Field(ShowConnection, **connection_args(), description="Live now, latest started first.")
    saved_shows = graphene.Field(
        ShowConnection, **connection_args(), description="Shows you saved that are not over, most recently saved first."
    )
    co_host_invitations = graphene.List(
        graphene.NonNull(ShowType),
        required=True,
        description="Shows you are invited to co-host (respondToCoHostInvite).",
    )

    def resolve_show(root, info, id, link_token=None):
        show = selectors.show_card(viewer(info), decode_id(id, "Show"), link_token)
        if show is not None:
            selectors.attach_viewer_counts([show])
        return show

    def resolve_upcoming_shows(root, info, first=None, after=None):
        return _shows_page(
            selectors.upcoming_shows(viewer(info)), first=first, after=after, ordering=selectors.UPCOMING
        )

    def resolve_live_shows(root, info, first=None, after=None):
        return _shows_page(selectors.live_shows(viewer(info)), first=first, after=after, ordering=selectors.LIVE_NOW)

    def resolve_saved_shows(root, info, first=None, after=None):
        return _shows_page(
            selectors.saved_shows(require_user(info)), first=first, after=after, ordering=selectors.SAVED
        )

    def resolve_co_host_invitations(root, info):
        return list(selectors.invited_shows(require_user(info)))


# Mutations: ids in, services, the show card (or the thing made) out.


def _show(info, show_id: str) -> Show:
    return selectors.get_show(viewer(info), decode_id(show_id, "Show", "showId"))


def _listing(info, listing_id: str):
    return marketplace_selectors.get_visible_listing(viewer(info), decode_id(listing_id, "Listing", "listingId"))


class ShowFields:
    title = graphene.String()
    description = graphene.String()
    scheduled_start = graphene.DateTime()
    is_private = graphene.Boolean(description="Left out of show lists; only savers are reminded. Open by link.")
    cover = Upload(description="A JPEG, PNG, WebP or HEIC image, sent as a multipart part.")


class CreateShowInput(ShowFields, graphene.InputObjectType):
    title = graphene.String(required=True)
    scheduled_start = graphene.DateTime(required=True)


class UpdateShowInput(ShowFields, graphene.InputObjectType):
    show_id = graphene.ID(required=True)


class ShowPayload:
    show = graphene.Field(ShowType)

    def resolve_show(payload, info):
        # The card costs a dozen queries: only for clients that ask for it.
        return selectors.show_card(viewer(info), payload.show.pk) if payload.show else None


class CreateShow(ShowPayload, BaseMutation):
    class Arguments:
        input = CreateShowInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.create_show(
            host=info.context.user,
            title=input.title,
            scheduled_start=input.scheduled_start,
            description=input.description or "",
            is_private=bool(input.is_private),
            cover=input.cover,
        )
        return cls(show=show, errors=[])


class UpdateShow(ShowPayload, BaseMutation):
    class Arguments:
        input = UpdateShowInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        details = {name: input.get(name) for name in ("title", "description", "scheduled_start", "is_private")}
        show = services.update_show(
            show=_show(info, input.show_id), user=info.context.user, cover=input.cover, **details
        )
        return cls(show=show, errors=[])


class ShowIdInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)


class ShowAction(ShowPayload, BaseMutation):
    """A mutation on one show, answering with the show as it is now: a subclass's `act` makes the
    service call, given the member or listing its input names (`target`)."""

    class Arguments:
        input = ShowIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        cls.act(show, info.context.user, *cls.target(info, input))
        return cls(show=show, errors=[])

    @classmethod
    def target(cls, info, input) -> tuple:
        return ()


class StartShow(ShowAction):
    """Go live: the host's followers and the show's savers are reminded."""

    @staticmethod
    def act(show, user):
        services.start_show(show=show, user=user)


class EndShow(ShowAction):
    """End a live show, or cancel a scheduled one (host)."""

    @staticmethod
    def act(show, user):
        services.end_show(show=show, user=user)


class SaveShow(ShowAction):
    """Be reminded when the show goes live."""

    @staticmethod
    def act(show, user):
        services.save_show(user=user, show=show)


class UnsaveShow(ShowAction):
    """No reminder for this show any more."""

    @staticmethod
    def act(show, user):
        services.unsave_show(user=user, show=show)


class RotateShowLink(ShowAction):
    """Replace the show's link (host): the old one opens nothing more; members who opened it keep access."""

    @staticmethod
    def act(show, user):
        services.rotate_show_link(show=show, user=user)


class OpenShowLinkInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    link_token = graphene.String(required=True, description="From the show's link.")


class OpenShowLink(ShowPayload, BaseMutation):
    """Open a private show by its link: you keep access to it (saving it, watching it) from then on,
    even after the host replaces the link."""

    class Arguments:
        input = OpenShowLinkInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = selectors.get_show(viewer(info), decode_id(input.show_id, "Show", "showId"), link_token=input.link_token)
        services.open_show_link(show=show, user=info.context.user)
        return cls(show=show, errors=[])


class ShowMemberInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    user_id = graphene.ID(required=True)


class ShowMemberAction(ShowAction):
    """A ShowAction on one member of the show (`act(show, user, member)`)."""

    class Arguments:
        input = ShowMemberInput(required=True)

    @classmethod
    def target(cls, info, input) -> tuple:
        return (active_member(input.user_id),)


class AddCoHost(ShowMemberAction):
    """Invite a member to co-host (host); they accept or decline."""

    @staticmethod
    def act(show, user, member):
        services.invite_cohost(show=show, host=user, invitee=member)


class RemoveCoHost(ShowMemberAction):
    """Withdraw an invitation or remove a co-host (host), or step down (the co-host)."""

    @staticmethod
    def act(show, user, member):
        services.remove_cohost(show=show, user=user, cohost_user=member)


class MuteShowViewer(ShowMemberAction):
    """The viewer keeps watching but cannot chat (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.restrict_viewer(show=show, moderator=user, viewer=member, kind=ShowRestriction.Kind.MUTED)


class UnmuteShowViewer(ShowMemberAction):
    """Let a muted viewer chat again (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.unmute_viewer(show=show, moderator=user, viewer=member)


class RemoveShowViewer(ShowMemberAction):
    """End the viewer's stream; they cannot watch, chat or bid in this show again (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.restrict_viewer(show=show, moderator=user, viewer=member, kind=ShowRestriction.Kind.REMOVED)


class RespondToCoHostInviteInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    accept = graphene.Boolean(required=True)


class RespondToCoHostInvite(ShowPayload, BaseMutation):
    class Arguments:
        input = RespondToCoHostInviteInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        services.respond_to_cohost_invite(show=show, user=info.context.user, accept=input.accept)
        return cls(show=show, errors=[])


class ShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)


class ShowListingAction(ShowAction):
    """A ShowAction on one listing of the show (`act(show, user, listing)`)."""

    class Arguments:
        input = ShowListingInput(required=True)

    @classmethod
    def target(cls, info, input) -> tuple:
        return (_listing(info, input.listing_id),)


class AddShowListing(ShowListingAction):
    """Curate an available listing from any closet into the line-up (host or co-host); its seller is told."""

    @staticmethod
    def act(show, user, listing):
        services.add_show_listing(show=show, user=user, listing=listing)


class RemoveShowListing(ShowListingAction):
    """Take a listing out of the line-up (host or co-host)."""

    @staticmethod
    def act(show, user, listing):
        services.remove_show_listing(show=show, user=user, listing=listing)


class FeatureShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(description="A listing of the line-up; null to feature nothing.")


class FeatureShowListing(ShowPayload, BaseMutation):
    """Show one listing of the line-up to every viewer at once (host or co-host)."""

    class Arguments:
        input = FeatureShowListingInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        listing = _listing(info, input.listing_id) if input.listing_id else None
        services.feature_listing(show=show, user=info.context.user, listing=listing)
        return cls(show=show, errors=[])


class ReorderShowListingsInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_ids = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description="These first, in this order; the others follow as they were.",
    )


class ReorderShowListings(ShowPayload, BaseMutation):
    class Arguments:
        input = ReorderShowListingsInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        listing_ids = [decode_id(value, "Listing", "listingIds") for value in input.listing_ids]
        services.reorder_line_up(show=show, user=info.context.user, listing_ids=listing_ids)
        return cls(show=show, errors=[])


class SendShowMessageInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    body = graphene.String(required=True)


class SendShowMessage(BaseMutation):
    """Chat in a live show: length-limited; slow mode, muted words and mutes apply to viewers."""

    class Arguments:
        input = SendShowMessageInput(required=True)

    message = graphene.Field(ShowMessageType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        message = services.send_message(show=_show(info, input.show_id), author=info.context.user, body=input.body)
        return cls(message=message, errors=[])


class DeleteShowMessageInput(graphene.InputObjectType):
    message_id = graphene.ID(required=True)


class DeleteShowMessage(BaseMutation):
    """Take a chat message down (host, co-host or its author)."""

    class Arguments:
        input = DeleteShowMessageInput(required=True)

    deleted = graphene.Boolean()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        message = selectors.get_message(viewer(info), decode_id(input.message_id, "ShowMessage", "messageId"))
        services.delete_message(message=message, user=info.context.user)
        return cls(deleted=True, errors=[])


class SetShowSlowModeInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    seconds = graphene.Int(required=True, description="Between a viewer's messages; 0 turns slow mode off.")


class SetShowSlowMode(ShowPayload, BaseMutation):
    class Arguments:
        input = SetShowSlowModeInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.set_slow_mode(show=_show(info, input.show_id), user=info.context.user, seconds=input.seconds)
        return cls(show=show, errors=[])


class SetShowMutedWordsInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    words = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Replaces the list; messages with one of them are refused.",
    )


class SetShowMutedWords(ShowPayload, BaseMutation):
    class Arguments:
        input = SetShowMutedWordsInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.set_muted_words(show=_show(info, input.show_id), user=info.context.user, words=input.words)
        return cls(show=show, errors=[])


class BuyShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True, description="The featured listing.")
    idempotency_key = graphene.String(
        required=True, description="Your key for this purchase: a retry with the same key returns the same order."
    )
    shipping_address_id = graphene.ID(description="Default: your default address.")


class BuyShowListing(OrderPayload, ShowPayload, BaseMutation):
    """Buy-now: the featured listing at its price, through the same orders path as purchaseListing."""

    class Arguments:
        input = BuyShowListingInput(required=True)

    order_id = graphene.ID(description="The global ID of the order made.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        order = services.buy_featured_listing(
            show=show,
            buyer=info.context.user,
            listing=_listing(info, input.listing_id),
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
        )
        return cls(
            order_id=to_global_id("Order", order.pk),
            order=marketplace_selectors.get_order(info.context.user, order.pk),
            show=show,
            errors=[],
        )


class StartShowAuctionInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)
    start_price = graphene.Decimal(required=True)
    duration_seconds = graphene.Int(required=True)


class StartShowAuction(BaseMutation):
    """Auction a listing of the line-up (host or co-host): it is featured and reserved; the
    highest bid when the timer ends wins."""

    class Arguments:
        input = StartShowAuctionInput(required=True)

    auction = graphene.Field(AuctionType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        auction = services.start_auction(
            show=_show(info, input.show_id),
            user=info.context.user,
            listing=_listing(info, input.listing_id),
            start_price=input.start_price,
            duration_seconds=input.duration_seconds,
        )
        return cls(auction=_auction_card(info, auction), errors=[])


class PlaceBidInput(graphene.InputObjectType):
    auction_id = graphene.ID(required=True)
    amount = graphene.Decimal(required=True)


class PlaceBid(BaseMutation):
    """Bid at least the auction's nextMinimumBid; a bid in the last seconds extends the timer."""

    class Arguments:
        input = PlaceBidInput(required=True)

    bid = graphene.Field(BidType)
    auction = graphene.Field(AuctionType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        auction = selectors.visible_auction(viewer(info), decode_id(input.auction_id, "Auction", "auctionId"))
        bid = services.place_bid(auction=auction, bidder=info.context.user, amount=input.amount)
        return cls(bid=bid, auction=_auction_card(info, auction), errors=[])


def _auction_card(info, auction: Auction) -> Auction:
    return AuctionType.get_queryset(Auction.objects.all(), info).get(pk=auction.pk)


class Mutation(graphene.ObjectType):
    create_show = CreateShow.Field()
    update_show = UpdateShow.Field()
    start_show = StartShow.Field()
    end_show = EndShow.Field()
    save_show = SaveShow.Field()
    open_show_link = OpenShowLink.Field()
    rotate_show_link = RotateShowLink.Field()
    unsave_show = UnsaveShow.Field()
    add_co_host = AddCoHost.Field()
    respond_to_co_host_invite = RespondToCoHostInvite.Field()
    remove_co_host = RemoveCoHost.Field()
    add_show_listing = AddShowListing.Field()
    remove_show_listing = RemoveShowListing.Field()
    reorder_show_listings = ReorderShowListings.Field()
    feature_show_listing = FeatureShowListing.Field()
    send_show_message = SendShowMessage.Field()
    delete_show_message = DeleteShowMessage.Field()
    set_show_slow_mode = SetShowSlowMode.Field()
    set_show_muted_words = SetShowMutedWords.Field()
    mute_show_viewer = MuteShowViewer.Field()
    unmute_show_viewer = UnmuteShowViewer.Field()
    remove_show_viewer = RemoveShowViewer.Field()
    buy_show_listing = BuyShowListing.Field()
    start_show_auction = StartShowAuction.Field()
    place_bid = PlaceBid.Field()


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
