"""Every write of the seller tools: price-drop notices to likers (more to come)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from graphql_relay import to_global_id

from marketplace.models import Listing, ListingPriceChange
from marketplace.pricing import to_cents
from notifications import services as notification_services
from notifications.models import Kind
from sellers import selectors
from sellers.models import PriceDropNotice, SellerToolSettings


@transaction.atomic
def on_price_change(*, listing: Listing, change: ListingPriceChange) -> PriceDropNotice | None:
    """Tell the listing's likers of a drop of at least the threshold below the lowest price they
    were last told of; a smaller drop or a rise tells nobody.

    Called by marketplace.services.update_listing in its transaction, with the listing locked, so
    drops of one listing are serialised. Drops within the window of a notified one keep one
    notification per liker: they notify with the same dedupe key and `replace=True`, so each
    liker's row is rewritten with the latest price (and new likers get it) instead of a second
    row; the push already decided for that row is not repeated. A qualifying drop lowers the
    price likers know of even when none are reached yet, so whoever likes it later is never told
    of a "drop" that is a rise from the price they liked it at.
    """
    if (listing.status != Listing.Status.AVAILABLE or listing.lowest_notified_price is None
            or change.new_price >= change.old_price):
        return None
    policy = SellerToolSettings.current()
    ceiling = to_cents(listing.lowest_notified_price * (1 - policy.price_drop_threshold_percent / Decimal(100)))
    if change.new_price > ceiling:
        return None
    now = timezone.now()
    window = selectors.latest_price_drop_notice(listing.pk, since=now - policy.price_drop_window)
    recipient_ids = selectors.price_drop_recipients(listing)
    notice = PriceDropNotice.objects.create(
        listing=listing, price_change=change, window_start=window, new_price=change.new_price,
        previous_price=window.previous_price if window else listing.lowest_notified_price,
        currency=change.currency, likers_reached=len(recipient_ids), created_at=now)
    notification_services.notify(
        recipient_ids=recipient_ids, kind=Kind.PRICE_DROP, title=f"Price drop: {listing.title}",
        body=f"Now {notice.new_price} {notice.currency} (was {notice.previous_price} {notice.currency}).", target=listing, coalesce_key=f"listing:{listing.pk}",
        dedupe_key=f"price_drop:{listing.pk}:{(window or notice).pk}", replace=True,
        data={"listingId": to_global_id("Listing", listing.pk), "price": str(notice.new_price),
              "previousPrice": str(notice.previous_price), "currency": notice.currency})
    Listing.objects.filter(pk=listing.pk).update(lowest_notified_price=change.new_price)
    listing.lowest_notified_price = change.new_price
    return notice
