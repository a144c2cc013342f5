"""The auction rules, as pure functions of the settings (staff can change every figure)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings


def bid_increment(price: Decimal) -> Decimal:
    """The smallest raise over `price`: the step of the first band whose limit is above it."""
    for limit, step in settings.LIVE_BID_INCREMENTS:
        if limit is None or price < Decimal(limit):
            return Decimal(step)
    raise ValueError("LIVE_BID_INCREMENTS must end with an open band (None, step)")


def minimum_bid(auction) -> Decimal:
    """The lowest acceptable next bid: the start price, then the high bid plus its band's step."""
    if auction.high_bid is None:
        return auction.start_price
    return auction.high_bid.amount + bid_increment(auction.high_bid.amount)


def end_after_bid(ends_at: datetime, now: datetime) -> datetime:
    """Anti-sniping: a bid in the last LIVE_AUCTION_SNIPE_SECONDS gives everyone that long again."""
    window = timedelta(seconds=settings.LIVE_AUCTION_SNIPE_SECONDS)
    return max(ends_at, now + window)
