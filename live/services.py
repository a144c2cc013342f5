"""Every write of live selling: shows, co-hosts, line-ups, the room (featuring, chat, moderation),
auctions and buy-now.

Everything a viewer sees happen locks the show's row first (`_locked`), checks the rules on the
locked state, writes, and records its event in the same transaction (live.events.record): the
show row orders a room's events, and a failed change is never announced. Auction writes lock
the auction row second, always in that order, so no two writers wait on each other crosswise.

Sales go through the orders path (marketplace.services.purchase_listing), which authorizes the
payment before its own transaction and so is called outside ours: a sale is bought first, then
announced to the room in a transaction of its own.

Who may do what: the host runs the show (start, end, co-hosts); the host and accepted co-hosts
share the room's powers (line-up, featuring, auctions, moderation) and are exempt from chat
limits; a muted viewer reads but cannot chat; a removed viewer can no longer watch, chat or bid.
Nobody who runs the room bids in its auctions, and no seller on their own item.

Another member's listing is sold only on its owner's terms (marketplace.models.CurationTerms):
it joins a line-up only if they allow curation, is auctioned only if they allow auctions, from
a start price at their floor or above, and an auction that closes below the floor (or after they
withdrew consent) makes no sale. The terms bind whoever acts on a listing that is not their own,
co-hosts on the host's listings included. Buy-now is always at the listing's own price.
"""

import functools
import re
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from config.textfold import fold
from live import events, payloads, rules, selectors, tasks
from live.errors import LiveError
from live.models import (
    Auction,
    Bid,
    CoHost,
    SavedShow,
    Show,
    ShowEvent,
    ShowListing,
    ShowMessage,
    ShowPass,
    ShowRestriction,
)
from marketplace import images
from marketplace import selectors as marketplace_selectors
from marketplace import services as marketplace_services
from marketplace.errors import CheckoutError, ListingError
from marketplace.models import Listing, Order, ShippingAddress
from notifications.models import Kind
from notifications.services import notify
from social import selectors as social_selectors
from social.errors import SocialError

Type = ShowEvent.Type
CLOSING_STATES = (Auction.State.RUNNING, Auction.State.SETTLING)
MAX_PRICE = Decimal("99999999.99")
MAX_SCHEDULE_AHEAD = timedelta(days=365)
MAX_MUTED_WORD_LENGTH = 50


# Shows


def create_show(
    *, host, title: str, scheduled_start, description: str = "", is_private: bool = False, cover=None, now=None
) -> Show:
    show = Show(host=host, is_private=is_private, link_token=new_link_token())
    _apply_details(
        show, title=title, description=description, scheduled_start=scheduled_start, now=now or timezone.now()
    )
    if cover is not None:
        show.cover = _store_cover(cover)
    show.save()
    return show


def update_show(*, show: Show, user, cover=None, now=None, **details) -> Show:
    """Change the title, description, privacy, cover, or (before it starts) the scheduled start."""
    path = _store_cover(cover) if cover is not None else None  # CPU work before the lock
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state == Show.State.ENDED:
            raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")
        if details.get("scheduled_start") is not None and show.state != Show.State.SCHEDULED:
            raise ServiceError(LiveError.SHOW_NOT_SCHEDULED, "The show has started.", "scheduledStart")
        _apply_details(show, now=now or timezone.now(), **details)
        if path is not None:
            show.cover = path
        show.save()
    return show


def start_show(*, show: Show, user, now=None) -> Show:
    """Go live, and remind the host's followers and the people who saved the show (only them
    when it is private)."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state != Show.State.SCHEDULED:
            raise ServiceError(LiveError.SHOW_NOT_SCHEDULED, "This show has already started or ended.", "showId")
        show.state, show.started_at = Show.State.LIVE, now
        show.save(update_fields=["state", "started_at"])
        events.record(show, Type.STATE, {"state": show.state}, now=now)
        _remind_audience(show)
    return show


def end_show(*, show: Show, user, now=None) -> Show:
    """End a live show, or cancel a scheduled one. A running auction finishes first."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state == Show.State.ENDED:
            raise ServiceError(LiveError.SHOW_ENDED, "This show is already over.", "showId")
        if Auction.objects.filter(show_id=show.pk, state=Auction.State.RUNNING).exists():
            raise ServiceError(LiveError.AUCTION_RUNNING, "Let the running auction finish first.", "showId")
        show.state, show.ended_at, show.featured_listing = Show.State.ENDED, now, None
        show.save(update_fields=["state", "ended_at", "featured_listing"])
        events.record(show, Type.STATE, {"state": show.state}, now=now)
    return show


def new_link_token() -> str:
    """The secret of a show's link: 32 URL-safe characters (192 random bits), never guessed."""
    return secrets.token_urlsafe(24)


def rotate_show_link(*, show: Show, user) -> Show:
    """The host replaces the link: the old one opens nothing more; who opened it keeps access."""
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        show.link_token = new_link_token()
        show.save(update_fields=["link_token"])
    return show


def open_show_link(*, show: Show, user) -> None:
    """A member opened a show by its link (the caller checked the token): they keep access."""
    if user is not None and user.is_authenticated:
        ShowPass.objects.get_or_create(user=user, show=show)


def save_show(*, user, show: Show) -> bool:
    """Remind me when it goes live; idempotent, True when this call saved it."""
    if show.state == Show.State.ENDED:
        raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")
    with transaction.atomic():
        _, created = SavedShow.objects.get_or_create(user=user, show=show)
    return created


def unsave_show(*, user, show: Show) -> bool:
    deleted, _ = SavedShow.objects.filter(user=user, show=show).delete()
    return bool(deleted)


# Co-hosts


def invite_cohost(*, show: Show, host, invitee, now=None) -> CoHost:
    """Invite a member to co-host; inviting someone already invited or co-hosting changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, host)
        _require_not_ended(show)
        if invitee.pk == show.host_id:
            raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You are the host already.", "userId")
        if social_selectors.is_blocked(show.host_id, invitee.pk):
            raise ServiceError(CommonError.BLOCKED, "You cannot invite this member.", "userId")
        pending = CoHost.objects.filter(show_id=show.pk, status__in=[CoHost.Status.INVITED, CoHost.Status.ACCEPTED])
        current = pending.filter(user_id=invitee.pk).first()
        if current is not None:
            return current
        if pending.count() >= settings.LIVE_MAX_COHOSTS:
            raise ServiceError(
                LiveError.COHOST_LIMIT_REACHED, f"A show has at most {settings.LIVE_MAX_COHOSTS} co-hosts.", "userId"
            )
        cohost, _ = CoHost.objects.update_or_create(
            show=show, user=invitee, defaults={"status": CoHost.Status.INVITED, "invited_at": now, "responded_at": None}
        )
        notify(
            recipient_ids=[invitee.pk],
            kind=Kind.COHOST_INVITE,
            title=f"@{show.host.username} invites you to co-host",
            body=show.title,
            dedupe_key=f"show_cohost_invite:{cohost.pk}:{int(now.timestamp())}",
            target=show,
            data={"show_id": to_global_id("Show", show.pk)},
        )
    return cohost


def respond_to_cohost_invite(*, show: Show, user, accept: bool, now=None) -> CoHost:
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_not_ended(show)
        cohost = CoHost.objects.filter(show_id=show.pk, user_id=user.pk, status=CoHost.Status.INVITED).first()
        if cohost is None:
            raise ServiceError(CommonError.NOT_FOUND, "You have no invitation to co-host this show.", "showId")
        cohost.status = CoHost.Status.ACCEPTED if accept else CoHost.Status.DECLINED
        cohost.responded_at = now
        cohost.save(update_fields=["status", "responded_at"])
        if accept:
            events.record(show, Type.COHOST_ADDED, {"user": payloads.user(user)}, now=now)
    return cohost


def remove_cohost(*, show: Show, user, cohost_user, now=None) -> None:
    """The host withdraws an invitation or removes a co-host; a co-host may step down."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        if user.pk not in (show.host_id, cohost_user.pk):
            raise ServiceError(CommonError.FORBIDDEN, "Only the host can remove a co-host.", "userId")
        cohost = CoHost.objects.filter(
            show_id=show.pk, user_id=cohost_user.pk, status__in=[CoHost.Status.INVITED, CoHost.Status.ACCEPTED]
        ).first()
        if cohost is None:
            raise ServiceError(CommonError.NOT_FOUND, "This member is not a co-host of the show.", "userId")
        was_cohosting = cohost.status == CoHost.Status.ACCEPTED
        cohost.status, cohost.responded_at = CoHost.Status.REMOVED, now
        cohost.save(update_fields=["status", "responded_at"])
        if was_cohosting:
            events.record(show, Type.COHOST_REMOVED, {"user": payloads.user(cohost_user)}, now=now)


# Line-up


def add_show_listing(*, show: Show, user, listing: Listing, now=None) -> ShowListing:
    """Curate an available listing from any closet into the line-up (last); its seller is told."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_not_ended(show)
        listing = _loaded(listing)
        if listing.status != Listing.Status.AVAILABLE:
            raise ServiceError(ListingError.LISTING_NOT_AVAILABLE, "This listing is not available.", "listingId")
        terms = marketplace_selectors.curation_terms(listing.seller_id)
        if listing.seller_id != user.pk and not terms.allow_curation:
            raise ServiceError(
                LiveError.CURATION_NOT_ALLOWED, "Its owner does not let others show this listing.", "listingId"
            )
        if ShowListing.objects.filter(show_id=show.pk, listing_id=listing.pk).exists():
            raise ServiceError(
                LiveError.LISTING_ALREADY_IN_SHOW, "This listing is in the line-up already.", "listingId"
            )
        entries = ShowListing.objects.filter(show_id=show.pk)
        if entries.filter(listing__status__in=selectors.LINE_UP_STATUSES).count() >= settings.LIVE_LINE_UP_MAX:
            raise ServiceError(
                LiveError.LINE_UP_FULL, f"A line-up holds at most {settings.LIVE_LINE_UP_MAX} listings.", "listingId"
            )
        last = entries.aggregate(last=Max("position"))["last"]
        entry = ShowListing.objects.create(
            show=show, listing=listing, added_by=user, added_at=now, position=0 if last is None else last + 1
        )
        events.record(show, Type.ITEM_ADDED, {"item": payloads.item(listing)}, now=now)
        if listing.seller_id != user.pk:
            notify(
                recipient_ids=[listing.seller_id],
                kind=Kind.SHOW_ITEM,
                title=f"Your {listing.title} is in @{show.host.username}'s show",
                body=show.title,
                dedupe_key=f"show_item:{show.pk}:{listing.pk}",
                target=listing,
                data={"show_id": to_global_id("Show", show.pk)},
            )
    return entry


def remove_show_listing(*, show: Show, user, listing: Listing, now=None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        entry = _entry(show, listing)
        _require_no_auction_of(listing)
        entry.delete()
        events.record(show, Type.ITEM_REMOVED, {"listing_id": to_global_id("Listing", listing.pk)}, now=now)
        if show.featured_listing_id == listing.pk:
            _feature(show, None, now=now)


def reorder_line_up(*, show: Show, user, listing_ids: list[int], now=None) -> None:
    """Put these listings first, in this order; the others follow in their current order."""
    now = now or timezone.now()
    if len(set(listing_ids)) != len(listing_ids):
        raise ServiceError(CommonError.INVALID, "A listing appears twice.", "listingIds")
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        entries = {entry.listing_id: entry for entry in ShowListing.objects.filter(show_id=show.pk)}
        if any(listing_id not in entries for listing_id in listing_ids):
            raise ServiceError(
                LiveError.LISTING_NOT_IN_SHOW, "Only listings of the line-up can be ordered.", "listingIds"
            )
        rest = sorted(
            (entry for listing_id, entry in entries.items() if listing_id not in set(listing_ids)),
            key=lambda entry: (entry.position, entry.pk),
        )
        ordered = [entries[listing_id] for listing_id in listing_ids] + rest
        for position, entry in enumerate(ordered):
            entry.position = position
        ShowListing.objects.bulk_update(ordered, ["position"])
        on_sale = set(
            ShowListing.objects.filter(show_id=show.pk, listing__status__in=selectors.LINE_UP_STATUSES).values_list(
                "listing_id", flat=True
            )
        )
        events.record(
            show,
            Type.LINE_UP_REORDERED,
            {
                "listing_ids": [
                    to_global_id("Listing", entry.listing_id) for entry in ordered if entry.listing_id in on_sale
                ]
            },
            now=now,
        )


# The room


def feature_listing(*, show: Show, user, listing: Listing | None, now=None) -> Show:
    """Show one listing of the line-up to every viewer (None: none); not while an auction runs."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_live(show)
        if Auction.objects.filter(show_id=show.pk, state=Auction.State.RUNNING).exists():
            raise ServiceError(LiveError.AUCTION_RUNNING, "Wait for the auction to end.", "listingId")
        if listing is not None:
            _entry(show, listing)
            listing = _loaded(listing)
            if listing.status != Listing.Status.AVAILABLE:
                raise ServiceError(
                    ListingError.LISTING_NOT_AVAILABLE, "This listing is no longer available.", "listingId"
                )
        if show.featured_listing_id != (listing.pk if listing else None):
            _feature(show, listing, now=now)
    return show


def send_message(*, show: Show, author, body: str, now=None) -> ShowMessage:
    now = now or timezone.now()
    body = (body or "").strip()
    if not body:
        raise ServiceError(CommonError.REQUIRED, "Write something first.", "body")
    if len(body) > settings.LIVE_MESSAGE_MAX_LENGTH:
        raise ServiceError(
            LiveError.MESSAGE_TOO_LONG, f"Messages are at most {settings.LIVE_MESSAGE_MAX_LENGTH} characters.", "body"
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_live(show)
        if author.pk not in selectors.moderator_ids(show):
            _require_may_chat(show, author, body, now=now)
        message = ShowMessage.objects.create(show=show, author=author, body=body, created_at=now)
        events.record(show, Type.MESSAGE, {"message": payloads.message(message)}, now=now)
    return message


def delete_message(*, message: ShowMessage, user, now=None) -> None:
    """A moderator (or staff), or the author, takes a message down; deleting it twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(message.show_id)
        message = ShowMessage.objects.get(pk=message.pk)
        if user.pk != message.author_id and not user.is_staff and user.pk not in selectors.moderator_ids(show):
            raise ServiceError(
                CommonError.FORBIDDEN, "Only the host, co-hosts and the author can delete it.", "messageId"
            )
        if message.deleted_at is not None:
            return
        message.deleted_at, message.deleted_by = now, user
        message.save(update_fields=["deleted_at", "deleted_by"])
        events.record(show, Type.MESSAGE_DELETED, {"message_id": to_global_id("ShowMessage", message.pk)}, now=now)


def set_slow_mode(*, show: Show, user, seconds: int, now=None) -> Show:
    now = now or timezone.now()
    if not 0 <= seconds <= settings.LIVE_SLOW_MODE_MAX_SECONDS:
        raise ServiceError(
            CommonError.INVALID, f"Slow mode is 0 (off) to {settings.LIVE_SLOW_MODE_MAX_SECONDS} seconds.", "seconds"
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_not_ended(show)
        show.slow_mode_seconds = seconds
        show.save(update_fields=["slow_mode_seconds"])
        events.record(show, Type.SLOW_MODE, {"slow_mode_seconds": seconds}, now=now)
    return show


def set_muted_words(*, show: Show, user, words: list[str]) -> Show:
    """Replace the muted words (whole words or phrases, matched as people see them: case, width,
    invisible characters and look-alike letters do not matter, config.textfold). Not announced:
    the list is the moderators' own."""
    cleaned = list(dict.fromkeys(" ".join(word.split()).lower() for word in words if fold(word).strip()))
    if len(cleaned) > settings.LIVE_MUTED_WORDS_MAX or any(len(word) > MAX_MUTED_WORD_LENGTH for word in cleaned):
        raise ServiceError(
            CommonError.INVALID,
            f"Up to {settings.LIVE_MUTED_WORDS_MAX} words of at most {MAX_MUTED_WORD_LENGTH} characters.",
            "words",
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        show.muted_words = cleaned
        show.save(update_fields=["muted_words"])
    return show


def restrict_viewer(*, show: Show, moderator, viewer, kind: str, now=None) -> bool:
    """Mute a viewer (reads, cannot chat) or remove them (their stream ends; no watching, chat or
    bids). True when this call changed something."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, moderator)
        if viewer.pk in selectors.moderator_ids(show):
            raise ServiceError(CommonError.FORBIDDEN, "The host and co-hosts cannot be muted or removed.", "userId")
        _, created = ShowRestriction.objects.get_or_create(
            show=show, user=viewer, kind=kind, defaults={"created_by": moderator, "created_at": now}
        )
        if created:
            event = Type.VIEWER_MUTED if kind == ShowRestriction.Kind.MUTED else Type.VIEWER_REMOVED
            events.record(show, event, {"user": payloads.user(viewer)}, now=now)
    return created


def unmute_viewer(*, show: Show, moderator, viewer, now=None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, moderator)
        deleted, _ = ShowRestriction.objects.filter(show=show, user=viewer, kind=ShowRestriction.Kind.MUTED).delete()
        if deleted:
            events.record(show, Type.VIEWER_UNMUTED, {"user": payloads.user(viewer)}, now=now)
    return bool(deleted)


# Auctions


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
        Q(state=Auction.State.RUNNING, ends_at__lte=now) | Q(state=Auction.State.SETTLING, closed_at__lte=stuck_since)
    )
    closed = [close_auction_if_due(auction_id=auction_id, now=now) for auction_id in due.values_list("pk", flat=True)]
    return sum(1 for auction in closed if auction is not None and auction.state not in CLOSING_STATES)


def prune_events(*, now) -> int:
    """Forget log events older than LIVE_EVENT_RETENTION; reconnecting later gets a snapshot."""
    deleted, _ = ShowEvent.objects.filter(created_at__lt=now - settings.LIVE_EVENT_RETENTION).delete()
    return deleted


# Helpers


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


def _require_not_ended(show: Show) -> None:
    if show.state == Show.State.ENDED:
        raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")


def _require_may_chat(show: Show, author, body: str, *, now) -> None:
    restrictions = selectors.restrictions_of(show, author)
    if ShowRestriction.Kind.REMOVED in restrictions:
        raise ServiceError(LiveError.VIEWER_REMOVED, "You were removed from this show.", "showId")
    if ShowRestriction.Kind.MUTED in restrictions:
        raise ServiceError(LiveError.VIEWER_MUTED, "You were muted in this show.", "body")
    if show.muted_words and _muted_words(tuple(show.muted_words)).search(fold(body)):
        raise ServiceError(LiveError.MUTED_WORD, "This message contains a word muted in this show.", "body")
    if (
        show.slow_mode_seconds
        and ShowMessage.objects.filter(
            show_id=show.pk, author_id=author.pk, created_at__gt=now - timedelta(seconds=show.slow_mode_seconds)
        ).exists()
    ):
        raise ServiceError(
            LiveError.SLOW_MODE, f"Slow mode: one message every {show.slow_mode_seconds} seconds.", "body"
        )


@functools.lru_cache(maxsize=256)
def _muted_words(words: tuple[str, ...]) -> re.Pattern:
    """The words as people see them (config.textfold.fold), to search a folded message."""
    folded = sorted({" ".join(fold(word).split()) for word in words} - {""}, key=len, reverse=True)
    if not folded:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in folded) + r")(?!\w)")


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


def _is_running(auction: Auction, now) -> bool:
    return auction.state == Auction.State.RUNNING and now < auction.ends_at


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
        if auction.state != Auction.State.RUNNING or now < auction.ends_at:
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


def _auction_payload(auction: Auction) -> dict:
    return payloads.auction(selectors.auctions().get(pk=auction.pk))


def _remind_audience(show: Show) -> None:
    savers = SavedShow.objects.filter(show_id=show.pk).values_list("user_id", flat=True)
    audience = set(savers)
    if not show.is_private:
        audience |= set(social_selectors.followers(show.host, None).values_list("pk", flat=True))
    audience.discard(show.host_id)
    notify(
        recipient_ids=audience,
        kind=Kind.SHOW_LIVE,
        title=f"@{show.host.username} is live",
        body=show.title,
        dedupe_key=f"show_live:{show.pk}",
        target=show,
        coalesce_key=f"show:{show.pk}",
        data={"show_id": to_global_id("Show", show.pk)},
    )


def _apply_details(show: Show, *, now, title=None, description=None, scheduled_start=None, is_private=None) -> None:
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise ServiceError(CommonError.REQUIRED, "Give the show a title.", "title")
        if len(title) > Show._meta.get_field("title").max_length:
            raise ServiceError(CommonError.INVALID, "Titles are at most 80 characters.", "title")
        show.title = title
    if description is not None:
        if len(description) > Show._meta.get_field("description").max_length:
            raise ServiceError(CommonError.INVALID, "Descriptions are at most 1,000 characters.", "description")
        show.description = description.strip()
    if scheduled_start is not None:
        if not now - timedelta(minutes=5) <= scheduled_start <= now + MAX_SCHEDULE_AHEAD:
            raise ServiceError(CommonError.INVALID, "Schedule the show from now to a year ahead.", "scheduledStart")
        show.scheduled_start = scheduled_start
    if is_private is not None:
        show.is_private = is_private


def _store_cover(upload) -> str:
    encoded = images.normalise(upload, field="cover")
    return default_storage.save(f"shows/{uuid.uuid4().hex}.jpg", ContentFile(encoded.content))
