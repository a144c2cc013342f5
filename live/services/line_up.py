"""The line-up: curating listings from any closet into a show, removing and reordering them.

Another member's listing joins a line-up only if its owner allows curation
(marketplace.models.CurationTerms); the owner is told."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from live import events, payloads, selectors
from live.errors import LiveError
from live.models import Show, ShowListing
from live.services._shared import (
    Type,
    _entry,
    _feature,
    _loaded,
    _locked,
    _require_moderator,
    _require_no_auction_of,
    _require_not_ended,
)
from marketplace import selectors as marketplace_selectors
from marketplace.errors import ListingError
from marketplace.models import Listing
from notifications.models import Kind
from notifications.services import notify


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
