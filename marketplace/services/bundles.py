"""Bundles: a buyer's open basket of one seller's listings, checked out or offered on as one.

Locks: adding and removing lock the buyer's open bundle for that seller (`_lock_open_bundle`).
"""

from django.db import transaction
from django.utils import timezone

from config.errors import ServiceError
from marketplace.errors import CheckoutError, ListingError
from marketplace.models import Bundle, BundleItem, Listing, Offer
from marketplace.services.listings import _check_buyable

BUNDLE_MAX_ITEMS = 50


@transaction.atomic
def add_to_bundle(*, buyer, listing: Listing) -> Bundle:
    """Put an available item in the buyer's open bundle of its closet (made on first use)."""
    listing = Listing.objects.get(pk=listing.pk)
    _check_buyable(buyer, listing)
    bundle = _lock_open_bundle(buyer, listing.seller_id)
    items = Listing.objects.filter(bundle_items__bundle=bundle)
    if items.exclude(currency=listing.currency).exists():
        raise ServiceError(ListingError.INVALID_CURRENCY, "A bundle is paid in one currency.", "listingId")
    if items.count() >= BUNDLE_MAX_ITEMS:
        raise ServiceError(CheckoutError.BUNDLE_FULL, f"A bundle holds at most {BUNDLE_MAX_ITEMS} items.", "listingId")
    BundleItem.objects.get_or_create(bundle=bundle, listing=listing)
    return bundle


@transaction.atomic
def remove_from_bundle(*, buyer, listing: Listing) -> Bundle | None:
    """Take an item out of the buyer's open bundle of its closet (nothing happens if it is not in)."""
    bundle = Bundle.objects.filter(buyer=buyer, seller_id=listing.seller_id, status=Bundle.Status.OPEN).first()
    if bundle is None:
        return None
    bundle = _lock_open_bundle(buyer, listing.seller_id)
    BundleItem.objects.filter(bundle=bundle, listing=listing).delete()
    return bundle


def _lock_open_bundle(buyer, seller_id: int) -> Bundle:
    bundle, _ = Bundle.objects.get_or_create(buyer=buyer, seller_id=seller_id, status=Bundle.Status.OPEN)
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if bundle.offers.filter(status=Offer.Status.PENDING, expires_at__gt=timezone.now()).exists():
        raise ServiceError(
            CheckoutError.BUNDLE_HAS_PENDING_OFFER,
            "Your offer on this bundle is waiting: withdraw it to change the bundle.",
            "listingId",
        )
    return bundle
