"""Sales in a show: buy-now of the featured listing, and auctions (start, bids, closing,
settling, the sweep).

Sales go through the orders path (marketplace.services.purchase_listing), which authorizes the
payment before its own transaction and so is called outside ours: a sale is bought first, then
announced to the room in a transaction of its own. Auction writes lock the show's row, then the
auction's.

While the show's stream is down no auction starts, and a running one is paused (its clock
stopped, bids refused) until the stream is back, then extended by the pause.

Nobody who runs the room bids in its auctions, and no seller on their own item. Another member's
listing is auctioned only if its owner allows auctions (marketplace.models.CurationTerms), from a
start price at their floor or above, and an auction that closes below the floor (or after they
withdrew consent) makes no sale. The terms bind whoever acts on a listing that is not their own,
co-hosts on the host's listings included. Buy-now is always at the listing's own price.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from live import events, payloads, rules, selectors, tasks
from live.errors import LiveError
from live.models import Auction, Bid, Show, ShowRestriction
from live.services._shared import (
    Type,
    _entry,
    _feature,
    _loaded,
    _locked,
    _record_sale,
    _require_live,
    _require_moderator,
    _require_no_auction_of,
    _require_price,
    _require_stream_up,
)
from marketplace import selectors as marketplace_selectors
from marketplace import services as marketplace_services
from marketplace.errors import CheckoutError
from marketplace.models import Listing, Order, ShippingAddress
from notifications.models import Kind
from notifications.services import notify

CLOSING_STATES = (Auction.State.RUNNING, Auction.State.SETTLING)


def buy_featured_listing(
    *, show: Show, buyer, listing: Listing, idempotency_key: str, shipping_address_id: int | None = None, now=None
) -> Order:
    """Buy-now: the featured listing at its price, through the orders path (idempotent on the
    client's key: a retry while it is still featured returns the same order); then the room
    hears that it sold."""
    now = now or timezone.now()
    _require_live(show)
    if ShowRestriction.Kind.REMOVED in selectors.restrictions_of(show, buyer):
        raise ServiceError(LiveError.VIEWER_REMOVED, "You were removed from this show.", "showId")
    if show.featured_listing_id != listing.pk:
        raise ServiceError(
            LiveError.LISTING_NOT_FEATURED, "Only the featured listing can be bought in the show.", "listingId"
        )
    _require_no_auction_of(listing)
    order = marketplace_services.purchase_listing(
        buyer=buyer,
        listing=listing,
        idempotency_key=idempotency_key,
        shipping_address_id=shipping_address_id,
        source=Order.Source.LIVE_BUY_NOW,
    )
    with transaction.atomic():
        _record_sale(_locked(show.pk), listing, buyer, order, now=now)
    return order


def start_auction(
    *, show: Show, user, listing: Listing, start_price: Decimal, duration_seconds: int, now=None
) -> Auction:
    """Auction a listing of the line-up: featured at once, reserved until the auction closes."""
    now = now or timezone.now()
    _require_price(start_price, "startPrice")
    if not settings.LIVE_AUCTION_MIN_SECONDS <= duration_seconds <= settings.LIVE_AUCTION_MAX_SECONDS:
        raise ServiceError(
            CommonError.INVALID,
            f"An auction lasts {settings.LIVE_AUCTION_MIN_SECONDS} to {settings.LIVE_AUCTION_MAX_SECONDS} seconds.",
            "durationSeconds",
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_live(show)
        _require_stream_up(show)
        if Auction.objects.filter(show_id=show.pk, state=Auction.State.RUNNING).exists():
            raise ServiceError(LiveError.AUCTION_RUNNING, "One auction at a time.", "listingId")
        _entry(show, listing)
        floor_price = _owner_floor(Listing.objects.get(pk=listing.pk), user, start_price)
        marketplace_services.reserve_listing(listing=listing)  # a typed error unless it is available
        listing = _loaded(listing)
        auction = Auction.objects.create(
            show=show,
            listing=listing,
            start_price=start_price,
            floor_price=floor_price,
            currency=listing.currency,
            duration_seconds=duration_seconds,
            started_at=now,
            ends_at=now + timedelta(seconds=duration_seconds),
        )
        if show.featured_listing_id != listing.pk:
            _feature(show, listing, now=now)
        events.record(show, Type.AUCTION_STARTED, {"auction": _auction_payload(auction)}, now=now)
        # robust: the auction runs; without a broker, beat's close_due_auctions closes it when due.
        transaction.on_commit(lambda: tasks.arm_auction_timer(auction.pk, auction.ends_at), robust=True)
    return auction


def place_bid(*, auction: Auction, bidder, amount: Decimal, now=None) -> Bid:
    """Bid at least the next minimum (start price, then the high bid plus its band's increment).
    Bids are serialised on the auction's row: of two equal bids, the second is too low. Bidders
    need a default shipping address, so that a win can always become an order."""
    now = now or timezone.now()
    _require_price(amount, "amount")
    if _is_running(auction, now):
        # The minimum only rises while an auction runs, so a bid too low for the auction as read
        # is too low under the locks as well: it is refused without queueing for the show's row
        # (of twenty bidders of one amount, nineteen are turned away here).
        _require_at_least_the_minimum(auction, amount)
    with transaction.atomic():
        show = _locked(auction.show_id)
        auction = Auction.objects.select_for_update().get(pk=auction.pk)
        if auction.paused_at is not None:
            raise ServiceError(
                LiveError.AUCTION_PAUSED, "The host's video is down: bidding resumes with it.", "auctionId"
            )
        if not _is_running(auction, now):
            raise ServiceError(LiveError.AUCTION_ENDED, "This auction has ended.", "auctionId")
        if ShowRestriction.Kind.REMOVED in selectors.restrictions_of(show, bidder):
            raise ServiceError(LiveError.VIEWER_REMOVED, "You were removed from this show.", "auctionId")
        if auction.listing.seller_id == bidder.pk:
            raise ServiceError(CheckoutError.CANNOT_BUY_OWN_LISTING, "You cannot bid on your own listing.", "auctionId")
        if bidder.pk in selectors.moderator_ids(show):
            raise ServiceError(LiveError.SHOW_STAFF_CANNOT_BID, "Who runs the show does not bid in it.", "auctionId")
        if not ShippingAddress.objects.filter(user_id=bidder.pk, is_default=True).exists():
            raise ServiceError(CheckoutError.ADDRESS_REQUIRED, "Add a shipping address before bidding.", "amount")
        if auction.high_bid is not None and auction.high_bid.bidder_id == bidder.pk:
            raise ServiceError(LiveError.ALREADY_HIGHEST_BIDDER, "You have the highest bid.", "amount")
        _require_at_least_the_minimum(auction, amount)
        bid = Bid.objects.create(auction=auction, bidder=bidder, amount=amount, created_at=now)
        ends_at = rules.end_after_bid(auction.ends_at, now)
        extended = ends_at != auction.ends_at
        auction.high_bid, auction.ends_at = bid, ends_at
        auction.bid_count += 1
        auction.save(update_fields=["high_bid", "ends_at", "bid_count"])
        rendered = _auction_payload(auction)
        events.record(show, Type.BID, {"bid": payloads.bid(bid), "auction": rendered}, now=now)
        if extended:
            events.record(show, Type.AUCTION_EXTENDED, {"auction": rendered}, now=now)
    return bid


def close_auction_if_due(*, auction_id: int, now) -> Auction | None:
    """End an auction whose timer is over and settle it (None if it does not exist): the highest
    bid becomes the winner's order, at the bid (purchase_listing, idempotent on the auction);
    without bids, or if the order cannot be made, the listing is released. Safe to run twice or
    at once: every step re-checks the state under the auction's lock."""
    auction = _end_bidding(auction_id, now=now)
    if auction is None or auction.state != Auction.State.SETTLING:
        return auction
    return _settle(auction, now=now)


def close_due_auctions(*, now) -> int:
    """The sweep: close the auctions whose timer is over (a lost timer, a restarted worker) and
    settle again those a crash left settling for longer than LIVE_AUCTION_SETTLE_GRACE."""
    stuck_since = now - settings.LIVE_AUCTION_SETTLE_GRACE
    due = Auction.objects.filter(
        Q(state=Auction.State.RUNNING, paused_at__isnull=True, ends_at__lte=now)
        | Q(state=Auction.State.SETTLING, closed_at__lte=stuck_since)
    )
    closed = [close_auction_if_due(auction_id=auction_id, now=now) for auction_id in due.values_list("pk", flat=True)]
    return sum(1 for auction in closed if auction is not None and auction.state not in CLOSING_STATES)


def pause_auction(show: Show, *, now) -> None:
    """The show's stream dropped: its running auction stops the clock (AUCTION_PAUSED), so that
    nobody wins while viewers cannot see. The caller holds the show's lock."""
    auction = Auction.objects.select_for_update().filter(show_id=show.pk, state=Auction.State.RUNNING).first()
    if auction is None or auction.paused_at is not None or now >= auction.ends_at:
        return
    auction.paused_at = now
    auction.save(update_fields=["paused_at"])
    events.record(show, Type.AUCTION_PAUSED, {"auction": _auction_payload(auction)}, now=now)


def resume_auction(show: Show, *, now) -> None:
    """The stream is back: the paused auction runs again, its end moved by the time it was paused
    (AUCTION_RESUMED carries the new ends_at). The caller holds the show's lock."""
    auction = Auction.objects.select_for_update().filter(show_id=show.pk, state=Auction.State.RUNNING).first()
    if auction is None or auction.paused_at is None:
        return
    auction.ends_at += now - auction.paused_at
    auction.paused_at = None
    auction.save(update_fields=["ends_at", "paused_at"])
    events.record(show, Type.AUCTION_RESUMED, {"auction": _auction_payload(auction)}, now=now)
    transaction.on_commit(lambda: tasks.arm_auction_timer(auction.pk, auction.ends_at), robust=True)


def _is_running(auction: Auction, now) -> bool:
    return auction.state == Auction.State.RUNNING and auction.paused_at is None and now < auction.ends_at


def _require_at_least_the_minimum(auction: Auction, amount: Decimal) -> None:
    minimum = rules.minimum_bid(auction)
    if amount < minimum:
        raise ServiceError(LiveError.BID_TOO_LOW, f"Bid at least {minimum} {auction.currency}.", "amount")


def _end_bidding(auction_id: int, *, now) -> Auction | None:
    show_id = Auction.objects.filter(pk=auction_id).values_list("show_id", flat=True).first()
    if show_id is None:
        return None
    with transaction.atomic():
        show = _locked(show_id)
        auction = Auction.objects.select_for_update().get(pk=auction_id)
        if auction.state != Auction.State.RUNNING or auction.paused_at is not None or now < auction.ends_at:
            return auction
        auction.closed_at = now
        unmet = _unmet_terms(auction) if auction.high_bid_id else ""
        if auction.high_bid_id and not unmet:
            auction.state = Auction.State.SETTLING
        else:
            auction.state = Auction.State.NOT_MET if unmet else Auction.State.UNSOLD
            auction.failure_reason = unmet
            marketplace_services.release_listing(listing=auction.listing)
        auction.save(update_fields=["state", "closed_at", "failure_reason"])
        if auction.state != Auction.State.SETTLING:
            events.record(show, Type.AUCTION_CLOSED, {"auction": _auction_payload(auction)}, now=now)
        if unmet:
            _tell_participants_of_no_sale(show, auction, unmet)
    return auction


def _owner_floor(listing: Listing, user, start_price: Decimal) -> Decimal | None:
    """The floor of `user`'s auction of `listing` (None when it is their own), or a typed error if
    its owner's terms forbid it or the start price is below their floor."""
    if listing.seller_id == user.pk:
        return None
    terms = marketplace_selectors.curation_terms(listing.seller_id)
    if not terms.allow_auctions:
        raise ServiceError(
            LiveError.AUCTION_NOT_ALLOWED, "Its owner does not let others auction this listing.", "listingId"
        )
    floor = terms.auction_floor(listing)
    if start_price < floor:
        raise ServiceError(
            LiveError.BELOW_AUCTION_FLOOR, f"Its owner's floor is {floor} {listing.currency}.", "startPrice"
        )
    return floor


def _unmet_terms(auction: Auction) -> str:
    """Why the owner's terms refuse the sale of another member's auction as it closes ("" if
    they do not): the terms are read again, so a floor raised or a consent withdrawn holds."""
    if auction.floor_price is None:
        return ""
    terms = marketplace_selectors.curation_terms(auction.listing.seller_id)
    if not terms.allow_auctions:
        return "The owner withdrew their consent to this auction: no sale."
    if auction.high_bid.amount < max(auction.floor_price, terms.auction_floor(auction.listing)):
        return "The highest bid did not reach the owner's floor: no sale."
    return ""


def _tell_participants_of_no_sale(show: Show, auction: Auction, reason: str) -> None:
    bidder_ids = set(Bid.objects.filter(auction_id=auction.pk).values_list("bidder_id", flat=True))
    notify(
        recipient_ids=sorted(bidder_ids | {auction.listing.seller_id}),
        kind=Kind.SYSTEM,
        title=f"No sale: {auction.listing.title}",
        body=reason,
        dedupe_key=f"auction_not_met:{auction.pk}",
        target=auction.listing,
        data={"show_id": to_global_id("Show", show.pk)},
    )


def _settle(auction: Auction, *, now) -> Auction:
    """Make the winner's order (outside any transaction: see the module docstring), then record
    the outcome once."""
    high = Bid.objects.select_related("bidder").get(pk=auction.high_bid_id)
    try:
        order, failure = (
            marketplace_services.purchase_listing(
                buyer=high.bidder,
                listing=auction.listing,
                price=high.amount,
                idempotency_key=f"auction:{auction.pk}",
                source=Order.Source.AUCTION,
                allow_reserved=True,
            ),
            "",
        )
    except ServiceError as error:
        order, failure = None, error.errors[0].message
    with transaction.atomic():
        show = _locked(auction.show_id)
        auction = Auction.objects.select_for_update().get(pk=auction.pk)
        if auction.state != Auction.State.SETTLING:
            return auction  # another run settled it meanwhile
        if order is not None:
            auction.state, auction.order = Auction.State.SOLD, order
        else:
            auction.state, auction.failure_reason = Auction.State.FAILED, failure[:200]
            marketplace_services.release_listing(listing=auction.listing)
        auction.save(update_fields=["state", "order", "failure_reason"])
        events.record(show, Type.AUCTION_CLOSED, {"auction": _auction_payload(auction)}, now=now)
        if order is not None:
            _record_sale(show, auction.listing, high.bidder, order, now=now)
        # The winner's purchase, like any order, is transactional news.
        notify(
            recipient_ids=[high.bidder_id],
            kind=Kind.AUCTION_WON,
            title=f"You won {auction.listing.title}" if order else "Your winning bid could not be completed",
            body=f"Your order at {high.amount} {auction.currency} is placed." if order else failure,
            dedupe_key=f"auction_won:{auction.pk}",
            target=auction.listing,
            data={"show_id": to_global_id("Show", show.pk)},
        )
    return auction


def _auction_payload(auction: Auction) -> dict:
    return payloads.auction(selectors.auctions().get(pk=auction.pk))
