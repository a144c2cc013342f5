"""Reads of shows: who sees which show, show cards for lists, line-ups, roles and auctions.

Visibility: a show is hidden from the people its host blocked. A private show opens only with
its link's token (Show.link_token) or to those with a part in it: its host, co-hosts (invited or
accepted), the members who opened it by the link (ShowPass) or saved it, and the owners of the
listings in its line-up. Its ID alone reveals nothing. It is listed only for its host, co-hosts
and the members who saved it.
"""

import time

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from config.errors import CommonError, ServiceError
from live import presence
from live.errors import LiveError
from live.models import (
    Auction,
    Bid,
    CoHost,
    Replay,
    ReplayChapter,
    SavedShow,
    Show,
    ShowListing,
    ShowMessage,
    ShowPass,
    ShowRestriction,
    ShowStream,
)
from marketplace import selectors as marketplace_selectors
from marketplace.models import Listing, ListingImage
from social import selectors as social_selectors

# Sold and removed listings drop out of line-ups; a reserved one (its auction running) stays.
LINE_UP_STATUSES = (Listing.Status.AVAILABLE, Listing.Status.RESERVED)
UPCOMING = ("scheduled_start", "pk")
LIVE_NOW = ("-started_at", "-pk")
SAVED = ("-saved_at", "-pk")


def visible_shows(viewer, link_token: str | None = None):
    """Shows `viewer` may open: public ones, and private ones by their link or their part in it."""
    opens = Q(is_private=False)
    if link_token:
        opens |= Q(link_token=link_token)
    if viewer is None:
        return Show.objects.filter(opens)
    opens |= (
        Q(host_id=viewer.pk)
        | Q(
            pk__in=CoHost.objects.filter(
                user_id=viewer.pk, status__in=(CoHost.Status.INVITED, CoHost.Status.ACCEPTED)
            ).values("show_id")
        )
        | Q(pk__in=ShowPass.objects.filter(user_id=viewer.pk).values("show_id"))
        | Q(pk__in=SavedShow.objects.filter(user_id=viewer.pk).values("show_id"))
        | Q(pk__in=ShowListing.objects.filter(listing__seller_id=viewer.pk).values("show_id"))
    )
    return Show.objects.filter(opens).exclude(host_id__in=social_selectors.blockers_of(viewer))


def show_cards(shows, viewer):
    """What a show shows in fixed queries: host, accepted co-hosts, line-up and featured listing
    cards, the running auction, saves."""
    saves = (
        SavedShow.objects.filter(show_id=OuterRef("pk"))
        .order_by()
        .values("show_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    on_sale = marketplace_selectors.visible_listings(viewer).filter(status__in=LINE_UP_STATUSES)
    return (
        shows.select_related("stream")
        .prefetch_related(
            Prefetch("host", queryset=social_selectors.users_for(viewer)),
            Prefetch(
                "cohosts",
                queryset=CoHost.objects.filter(status=CoHost.Status.ACCEPTED)
                .order_by("responded_at", "pk")
                .prefetch_related(Prefetch("user", queryset=social_selectors.users_for(viewer))),
                to_attr="accepted_cohosts",
            ),
            Prefetch("line_up", queryset=line_up(viewer), to_attr="visible_line_up"),
            Prefetch("featured_listing", queryset=marketplace_selectors.listing_cards(on_sale, viewer)),
            Prefetch(
                "auctions",
                queryset=auction_cards(Auction.objects.filter(state=Auction.State.RUNNING), viewer),
                to_attr="running_auctions",
            ),
        )
        .annotate(
            save_count=Coalesce(Subquery(saves, output_field=IntegerField()), Value(0)),
            viewer_has_saved=Exists(SavedShow.objects.filter(show_id=OuterRef("pk"), user_id=viewer.pk))
            if viewer is not None
            else Value(False),
        )
    )


def line_up(viewer):
    """Line-up entries `viewer` may see (the listing still on sale, not hidden), with listing cards;
    the caller filters by show."""
    listings = marketplace_selectors.visible_listings(viewer).filter(status__in=LINE_UP_STATUSES)
    return (
        ShowListing.objects.filter(listing__in=listings)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch("listing", queryset=marketplace_selectors.listing_cards(Listing.objects.all(), viewer)),
            Prefetch("added_by", queryset=social_selectors.users_for(viewer)),
        )
    )


def auction_cards(auctions, viewer):
    """Auctions as the API shows them: the listing card, the high bid and its bidder."""
    return auctions.prefetch_related(
        Prefetch("listing", queryset=marketplace_selectors.listing_cards(Listing.objects.all(), viewer)),
        Prefetch(
            "high_bid",
            queryset=Bid.objects.prefetch_related(Prefetch("bidder", queryset=social_selectors.users_for(viewer))),
        ),
    )


def get_show(viewer, show_id: int, field: str = "showId", link_token: str | None = None) -> Show:
    """A show `viewer` may open (the bare row, for a service to act on), or NOT_FOUND."""
    show = visible_shows(viewer, link_token).filter(pk=show_id).first()
    if show is None:
        raise ServiceError(CommonError.NOT_FOUND, "This show does not exist.", field)
    return show


def show_card(viewer, show_id: int, link_token: str | None = None) -> Show | None:
    return show_cards(visible_shows(viewer, link_token), viewer).filter(pk=show_id).first()


def listed_shows(viewer):
    """Shows that appear in lists for `viewer`: public ones, and private ones they host, co-host or saved."""
    shows = visible_shows(viewer)
    if viewer is None:
        return shows.filter(is_private=False)
    return shows.filter(
        Q(is_private=False)
        | Q(host_id=viewer.pk)
        | Q(pk__in=CoHost.objects.filter(user_id=viewer.pk, status=CoHost.Status.ACCEPTED).values("show_id"))
        | Q(pk__in=SavedShow.objects.filter(user_id=viewer.pk).values("show_id"))
    )


def upcoming_shows(viewer):
    """Scheduled shows, soonest first: order by UPCOMING."""
    return show_cards(listed_shows(viewer).filter(state=Show.State.SCHEDULED), viewer)


def live_shows(viewer):
    """Shows live now, most recently started first: order by LIVE_NOW."""
    return show_cards(listed_shows(viewer).filter(state=Show.State.LIVE), viewer)


def invited_shows(viewer):
    """Shows `viewer` is invited to co-host and has not answered, soonest first."""
    return show_cards(
        visible_shows(viewer)
        .filter(cohosts__user_id=viewer.pk, cohosts__status=CoHost.Status.INVITED)
        .exclude(state=Show.State.ENDED),
        viewer,
    ).order_by(*UPCOMING)


def visible_auction(viewer, auction_id: int) -> Auction:
    auction = Auction.objects.select_related("high_bid").filter(pk=auction_id, show__in=visible_shows(viewer)).first()
    if auction is None:
        raise ServiceError(CommonError.NOT_FOUND, "This auction does not exist.", "auctionId")
    return auction


def saved_shows(viewer):
    """Shows `viewer` saved and that are not over, most recently saved first: order by SAVED."""
    return show_cards(
        visible_shows(viewer)
        .filter(saves__user_id=viewer.pk)
        .exclude(state=Show.State.ENDED)
        .annotate(saved_at=F("saves__created_at")),
        viewer,
    )


def attach_viewer_counts(shows: list[Show]) -> None:
    """Set `viewer_count` on each show with one presence round trip for the whole page."""
    counts = presence.backend().counts([show.pk for show in shows], time.time()) if shows else {}
    for show in shows:
        show.viewer_count = counts[show.pk]


def moderator_ids(show: Show) -> set[int]:
    """The host and the accepted co-hosts: who runs the room."""
    return {
        show.host_id,
        *CoHost.objects.filter(show_id=show.pk, status=CoHost.Status.ACCEPTED).values_list("user_id", flat=True),
    }


def restrictions_of(show: Show, user) -> set[str]:
    return set(ShowRestriction.objects.filter(show_id=show.pk, user_id=user.pk).values_list("kind", flat=True))


def watchable_show(viewer, show_id: int, link_token: str | None = None) -> Show:
    """A show `viewer` may watch (subscribe to), or a typed error."""
    show = get_show(viewer, show_id, link_token=link_token)
    if ShowRestriction.Kind.REMOVED in restrictions_of(show, viewer):
        raise ServiceError(LiveError.VIEWER_REMOVED, "You were removed from this show.", "showId")
    return show


def items(listings):
    """Listings with what the room renders of them (live.payloads.item): seller and images."""
    return listings.select_related("seller").prefetch_related(
        Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk"))
    )


def auctions():
    """Auctions with what the room renders of them (live.payloads.auction)."""
    return Auction.objects.select_related("high_bid__bidder").prefetch_related(
        Prefetch("listing", queryset=items(Listing.objects.all()))
    )


def running_auction(show: Show) -> Auction | None:
    return auctions().filter(show_id=show.pk, state=Auction.State.RUNNING).first()


def get_message(viewer, message_id: int) -> ShowMessage:
    """A chat message of a show `viewer` may open, deleted or not (deleting twice is harmless)."""
    message = ShowMessage.objects.filter(pk=message_id, show__in=visible_shows(viewer)).first()
    if message is None:
        raise ServiceError(CommonError.NOT_FOUND, "This message does not exist.", "messageId")
    return message


def messages(show: Show, viewer):
    """Chat that was not deleted, newest first: order by ("-created_at", "-pk")."""
    return ShowMessage.objects.filter(show_id=show.pk, deleted_at__isnull=True).prefetch_related(
        Prefetch("author", queryset=social_selectors.users_for(viewer))
    )


def stream_of(show: Show) -> ShowStream | None:
    """The show's stream, if its host set one up (show cards come with it loaded)."""
    try:
        return show.stream
    except ShowStream.DoesNotExist:
        return None


def may_play(show_id: int, viewer_id: int, room_id: str) -> bool:
    """Whether a playback grant (minted when the viewer could open the show) still holds: the
    show's stream is this room and not over, and the viewer is an active member not removed."""
    return (
        ShowStream.objects.filter(show_id=show_id, provider_room_id=room_id)
        .exclude(state=ShowStream.State.ENDED)
        .exists()
        and User.objects.filter(pk=viewer_id, is_active=True).exists()
        and not ShowRestriction.objects.filter(
            show_id=show_id, user_id=viewer_id, kind=ShowRestriction.Kind.REMOVED
        ).exists()
    )


REPLAYS = ("-ready_at", "-pk")


def replay_cards(replays, viewer):
    """The ready ones of `replays` (of shows the caller checked `viewer` may open), not of shows
    they were removed from, with the show and its host, and the chapters whose listing they may
    see, each with its listing card as it is now (sold out or still on sale)."""
    replays = replays.filter(ready=True)
    if viewer is not None:
        removed = ShowRestriction.objects.filter(
            show_id=OuterRef("show_id"), user_id=viewer.pk, kind=ShowRestriction.Kind.REMOVED
        )
        replays = replays.exclude(Exists(removed))
    listings = marketplace_selectors.visible_listings(viewer)
    chapters = ReplayChapter.objects.filter(listing__in=listings).prefetch_related(
        Prefetch("listing", queryset=marketplace_selectors.listing_cards(Listing.objects.all(), viewer))
    )
    return replays.select_related("show").prefetch_related(
        Prefetch("show__host", queryset=social_selectors.users_for(viewer)),
        Prefetch("chapters", queryset=chapters.order_by("offset_seconds", "pk"), to_attr="visible_chapters"),
    )


def host_replays(viewer, host_id: int):
    """The replays on a host's profile: of their shows listed for `viewer`; order by REPLAYS."""
    return replay_cards(Replay.objects.filter(show__in=listed_shows(viewer).filter(host_id=host_id)), viewer)


def show_replay(viewer, show_id: int, link_token: str | None = None) -> Replay | None:
    """The replay of a show `viewer` may open (a private one by its link), once ready."""
    shows = visible_shows(viewer, link_token).filter(pk=show_id)
    return replay_cards(Replay.objects.filter(show__in=shows), viewer).first()
