"""Helpers several service modules use: the member lock, client IDs for notification data,
money validation, and closing what a listing leaving sale leaves behind (its pending offers, its
places in open bundles).

Locks: `_lock_member` locks a member's user row (the seller's, before more than one offer or
listing of their closet: see the lock order in checkout); `_close_pending_offers` locks the
listing's pending offers, called with the seller's row held.
"""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import FieldError, ServiceError
from marketplace import pricing
from marketplace.errors import ListingError
from marketplace.models import Bundle, BundleItem, Listing, Offer
from notifications import services as notification_services
from notifications.models import Kind

MAX_PRICE = Decimal("99999999.99")  # what DecimalField(max_digits=10, decimal_places=2) holds


def _price_errors(value: Decimal | None, field: str) -> list[FieldError]:
    if value is None:
        return []
    if not value.is_finite() or not Decimal("0") < value <= MAX_PRICE:
        return [FieldError(ListingError.INVALID_PRICE, f"Enter a price above 0 and at most {MAX_PRICE}.", field)]
    if value != value.quantize(Decimal("0.01")):
        return [FieldError(ListingError.INVALID_PRICE, "Prices have at most two decimals.", field)]
    return []


def _lock_member(user_id: int) -> None:
    User.objects.select_for_update().filter(pk=user_id).exists()


def validated_money(amount, field: str) -> Decimal:
    """A price or amount a member typed, in cents, or INVALID_PRICE (not finite, not above 0, too large)."""
    errors = _price_errors(amount, field)
    if errors:
        raise ServiceError.many(errors)
    return pricing.to_cents(amount)


def _gid(instance) -> str:
    """The client's ID of an object, for notification data (GraphQL type names are model names)."""
    return to_global_id(type(instance).__name__, instance.pk)


def _close_pending_offers(listing: Listing) -> list[Offer]:
    """The listing sold out or was removed: offers on it, or on bundles holding it, can no longer
    be accepted. Returns the offers closed."""
    ids = list(
        Offer.objects.filter(
            Q(listing=listing) | Q(bundle__items__listing=listing), status=Offer.Status.PENDING
        ).values_list("pk", flat=True)
    )
    closed = list(Offer.objects.select_for_update().filter(pk__in=ids, status=Offer.Status.PENDING))
    Offer.objects.filter(pk__in=[offer.pk for offer in closed]).update(
        status=Offer.Status.CANCELLED, updated_at=timezone.now()
    )
    return closed


def _release_buyers(listing: Listing, change: str) -> None:
    """The seller took the listing off sale, removed it or changed its currency (under their
    member lock): its pending offers end (offers to likers too), it leaves the buyers' open
    bundles, and each buyer is told."""
    for offer in _close_pending_offers(listing):
        notification_services.notify(
            recipient_ids=[offer.buyer_id],
            kind=Kind.SYSTEM,
            title="An offer was closed",
            body=f"{listing.title} {change}: your offer of {offer.amount} {offer.currency} no longer stands.",
            dedupe_key=f"offer:{offer.pk}:closed",
            target=listing,
            data={"offerId": _gid(offer)},
        )
    items = BundleItem.objects.filter(listing=listing, bundle__status=Bundle.Status.OPEN)
    buyer_ids = list(items.values_list("bundle__buyer_id", flat=True))
    items.delete()
    if buyer_ids:
        notification_services.notify(
            recipient_ids=buyer_ids,
            kind=Kind.SYSTEM,
            title="An item left your bundle",
            body=f"{listing.title} {change}.",
            dedupe_key=f"bundle_release:{listing.pk}:{listing.updated_at.timestamp()}",
            target=listing,
        )
