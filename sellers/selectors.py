"""Reads of the seller tools: who hears of a price drop, and what the seller sees of the results."""

from django.db.models import Subquery

from marketplace.models import Listing, ListingPriceChange
from sellers.models import PriceDropNotice
from social.models import Block, Like


def price_drop_recipients(listing: Listing) -> list[int]:
    """Ids of the listing's current likers who may hear of its drop: active members, not the
    seller, and nobody the seller blocked or who blocked the seller."""
    seller_id = listing.seller_id
    return list(Like.objects.filter(listing_id=listing.pk, user__is_active=True)
                .exclude(user_id=seller_id)
                .exclude(user_id__in=Block.objects.filter(blocker_id=seller_id).values("blocked_id"))
                .exclude(user_id__in=Block.objects.filter(blocked_id=seller_id).values("blocker_id"))
                .values_list("user_id", flat=True))


def latest_price_drop_notice(listing_id: int, *, since=None) -> PriceDropNotice | None:
    """The notice of the listing's drop window open at `since`, if any: the latest notice that
    opened a window (later drops in it join that notice's notification)."""
    opened = PriceDropNotice.objects.filter(listing_id=listing_id, window_start__isnull=True)
    if since is not None:
        opened = opened.filter(created_at__gte=since)
    return opened.order_by("-created_at", "-pk").first()


def likers_reached_by_last_price_change(listing: Listing) -> int | None:
    """How many likers the listing's latest price change reached; None when it notified nobody."""
    latest_change = ListingPriceChange.objects.filter(listing_id=listing.pk).order_by("-changed_at", "-pk")
    return (PriceDropNotice.objects.filter(price_change_id=Subquery(latest_change.values("pk")[:1]))
            .values_list("likers_reached", flat=True).first())


def price_drops(listing: Listing):
    """The listing's price-drop notices, newest first: order by ("-created_at", "-pk")."""
    return PriceDropNotice.objects.filter(listing_id=listing.pk)
