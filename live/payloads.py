"""What show events carry: small JSON dicts rendered once, when the event is recorded.

An event goes to every viewer of a room (thousands, DESIGN.md §6), each subscriber executing the
client's selection on it; rendering the listing, the bid or the message once here means that no
subscriber loads anything from the database. Everything in them is public in the room. Keys
are the snake_case field names of the `ShowEvent…` GraphQL types (live.schema), IDs are global.
"""

from decimal import Decimal

from django.core.files.storage import default_storage
from graphql_relay import to_global_id

from live.rules import minimum_bid

COVER_SIZE = "medium"


def user(person) -> dict:
    return {
        "id": to_global_id("User", person.pk),
        "username": person.username,
        "avatar_url": person.avatar.url if person.avatar else None,
    }


def money(amount: Decimal, currency: str) -> dict:
    return {"amount": str(amount), "currency": currency}


def item(listing) -> dict:
    """A listing as the room shows it; `listing` comes with its seller and images loaded."""
    images = listing.images.all()
    cover = default_storage.url(images[0].renditions.get(COVER_SIZE, images[0].original)) if images else None
    return {
        "listing_id": to_global_id("Listing", listing.pk),
        "title": listing.title,
        "price": money(listing.price, listing.currency),
        "status": listing.status,
        "brand": listing.brand,
        "size": listing.size,
        "condition": listing.condition,
        "cover_image_url": cover,
        "seller": user(listing.seller),
    }


def message(chat_message) -> dict:
    return {
        "id": to_global_id("ShowMessage", chat_message.pk),
        "body": chat_message.body,
        "author": user(chat_message.author),
        "created_at": chat_message.created_at.isoformat(),
    }


def bid(placed) -> dict:
    return {
        "amount": money(placed.amount, placed.auction.currency),
        "bidder": user(placed.bidder),
        "created_at": placed.created_at.isoformat(),
    }


def auction(running) -> dict:
    """An auction with its listing, high bid and bidder loaded (live.selectors.auctions)."""
    high = running.high_bid
    return {
        "id": to_global_id("Auction", running.pk),
        "state": running.state,
        "item": item(running.listing),
        "start_price": money(running.start_price, running.currency),
        "current_bid": money(high.amount, running.currency) if high else None,
        "leader": user(high.bidder) if high else None,
        "bid_count": running.bid_count,
        "next_minimum_bid": money(minimum_bid(running), running.currency),
        "ends_at": running.ends_at.isoformat(),
        "closed_at": running.closed_at.isoformat() if running.closed_at else None,
        "paused_at": running.paused_at.isoformat() if running.paused_at else None,
    }
