"""Helpers several service modules use: the show's lock (`_locked`: every write a viewer sees
takes it first, and auction writes lock the auction row second, always in that order), the
checks of who may act and of the show's state, the line-up entry and listing as the room renders
them, featuring, and announcing a sale once per order."""

from decimal import Decimal

from config.errors import CommonError, ServiceError
from live import events, payloads, selectors
from live.errors import LiveError
from live.models import Auction, Show, ShowEvent, ShowListing, ShowStream
from marketplace.errors import ListingError
from marketplace.models import Listing, Order

Type = ShowEvent.Type
MAX_PRICE = Decimal("99999999.99")


def _locked(show_id: int) -> Show:
    return Show.objects.select_related("host").select_for_update(of=("self",)).get(pk=show_id)


def _require_host(show: Show, user) -> None:
    if show.host_id != user.pk:
        raise ServiceError(CommonError.FORBIDDEN, "Only the host can do this.", "showId")


def _require_moderator(show: Show, user) -> None:
    if user.pk not in selectors.moderator_ids(show):
        raise ServiceError(CommonError.FORBIDDEN, "Only the host and co-hosts can do this.", "showId")


def _require_live(show: Show) -> None:
    if show.state != Show.State.LIVE:
        raise ServiceError(LiveError.SHOW_NOT_LIVE, "The show is not live.", "showId")


def _require_stream_up(show: Show) -> None:
    """A show with a stream sells only while viewers can see it."""
    state = ShowStream.objects.filter(show_id=show.pk).values_list("state", flat=True).first()
    if state not in (None, ShowStream.State.LIVE):
        raise ServiceError(LiveError.STREAM_DOWN, "The host's video is not live.", "showId")


def _require_not_ended(show: Show) -> None:
    if show.state == Show.State.ENDED:
        raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")


def _require_price(amount: Decimal, field: str) -> None:
    if not amount.is_finite() or not Decimal("0") < amount <= MAX_PRICE or amount != amount.quantize(Decimal("0.01")):
        raise ServiceError(
            ListingError.INVALID_PRICE, f"Enter an amount above 0 and at most {MAX_PRICE}, in cents.", field
        )


def _require_no_auction_of(listing: Listing) -> None:
    if Auction.objects.filter(listing_id=listing.pk, state=Auction.State.RUNNING).exists():
        raise ServiceError(LiveError.AUCTION_RUNNING, "This listing is being auctioned.", "listingId")


def _entry(show: Show, listing: Listing) -> ShowListing:
    entry = ShowListing.objects.filter(show_id=show.pk, listing_id=listing.pk).first()
    if entry is None:
        raise ServiceError(LiveError.LISTING_NOT_IN_SHOW, "This listing is not in the show's line-up.", "listingId")
    return entry


def _loaded(listing: Listing) -> Listing:
    """The listing as it is now, with what the room renders of it."""
    return selectors.items(Listing.objects.all()).get(pk=listing.pk)


def _feature(show: Show, listing: Listing | None, *, now) -> None:
    show.featured_listing = listing
    show.save(update_fields=["featured_listing"])
    events.record(show, Type.FEATURED, {"item": payloads.item(listing) if listing else None}, now=now)


def _record_sale(show: Show, listing: Listing, buyer, order: Order, *, now) -> None:
    """Tell the room a listing sold, once per order (a retried purchase returns the same one).
    `order_id` stays internal: ShowEvent exposes no field for it."""
    if ShowEvent.objects.filter(show_id=show.pk, type=Type.SOLD, data__order_id=order.pk).exists():
        return
    events.record(
        show,
        Type.SOLD,
        {
            "item": payloads.item(_loaded(listing)),
            "buyer": payloads.user(buyer),
            "price": payloads.money(order.item_total, order.currency),
            "order_id": order.pk,
        },
        now=now,
    )
