"""Shipping addresses, and a seller's discounts and curation terms.

Locks: address writes lock the member's user row (one default address at a time); discount and
curation term writes lock the seller's SellerDiscounts / CurationTerms row.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from config.errors import CommonError, FieldError, ServiceError
from marketplace.errors import DJANGO_CODES, CheckoutError
from marketplace.models import CurationTerms, SellerDiscounts, ShippingAddress
from marketplace.services._shared import _lock_member

MAX_ADDRESSES = 10


@transaction.atomic
def add_shipping_address(*, user, make_default: bool = False, **fields) -> ShippingAddress:
    """Save an address; the first one (or one marked so) becomes the default."""
    _lock_member(user.pk)
    saved = ShippingAddress.objects.filter(user=user).count()
    if saved >= MAX_ADDRESSES:
        raise ServiceError(CheckoutError.TOO_MANY_ADDRESSES, f"Keep at most {MAX_ADDRESSES} addresses.")
    address = ShippingAddress(user=user)
    _apply_address(address, {name: "" for name in ShippingAddress.ADDRESS_FIELDS} | fields)
    if make_default or not saved:
        _take_default(address)
    address.save()
    return address


@transaction.atomic
def update_shipping_address(*, address: ShippingAddress, make_default: bool = False, **changes) -> ShippingAddress:
    """Edit a saved address; orders placed with it keep the copy they were shipped to."""
    _lock_member(address.user_id)
    address = ShippingAddress.objects.get(pk=address.pk)
    _apply_address(address, changes)
    if make_default:
        _take_default(address)
    address.save()
    return address


@transaction.atomic
def remove_shipping_address(*, address: ShippingAddress) -> None:
    """Forget an address; if it was the default, the newest other one takes its place."""
    _lock_member(address.user_id)
    ShippingAddress.objects.filter(pk=address.pk).delete()
    if address.is_default:
        newest = ShippingAddress.objects.filter(user_id=address.user_id).order_by("-created_at", "-pk").first()
        if newest is not None:
            ShippingAddress.objects.filter(pk=newest.pk).update(is_default=True)


def _apply_address(address: ShippingAddress, changes: dict) -> None:
    for name, value in changes.items():
        if name not in ShippingAddress.ADDRESS_FIELDS:
            raise ValueError(f"{name} is not an address field")
        setattr(address, name, (value or "").strip())
    address.country = address.country.upper()
    errors = []
    try:
        address.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors += ServiceError.from_validation_error(exc, codes=DJANGO_CODES).errors
    if len(address.country) == 2 and not (address.country.isascii() and address.country.isalpha()):
        errors.append(FieldError(CommonError.INVALID, "Use a two-letter country code, e.g. US.", "country"))
    if errors:
        raise ServiceError.many(errors)


def _take_default(address: ShippingAddress) -> None:
    ShippingAddress.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    address.is_default = True


DISCOUNT_RANGES = {"bundle_percent": (0, 90), "bundle_min_items": (2, 50), "shipping_percent": (0, 100)}


@transaction.atomic
def update_seller_discounts(*, seller, **changes) -> SellerDiscounts:
    """Set the seller's bundle discount (percent off bundles of at least `bundle_min_items`) and the
    share of the label fee they pay on every order (`shipping_percent`)."""
    discounts, _ = SellerDiscounts.objects.select_for_update().get_or_create(seller=seller)
    errors = []
    for name, value in changes.items():
        low, high = DISCOUNT_RANGES[name]
        if not low <= value <= high:
            errors.append(FieldError(CommonError.INVALID, f"Choose {low} to {high}.", name))
        setattr(discounts, name, value)
    if errors:
        raise ServiceError.many(errors)
    discounts.save()
    return discounts


@transaction.atomic
def update_curation_terms(
    *,
    seller,
    allow_curation: bool | None = None,
    allow_auctions: bool | None = None,
    auction_floor_percent: int | None = None,
) -> CurationTerms:
    """Set whether others may curate the seller's listings into their shows, whether they may
    auction them, and the floor of their auctions (1 to 100 percent of the list price)."""
    terms, _ = CurationTerms.objects.select_for_update().get_or_create(seller=seller)
    if auction_floor_percent is not None and not 1 <= auction_floor_percent <= 100:
        raise ServiceError(CommonError.INVALID, "Choose 1 to 100 percent of the list price.", "auctionFloorPercent")
    for name, value in (
        ("allow_curation", allow_curation),
        ("allow_auctions", allow_auctions),
        ("auction_floor_percent", auction_floor_percent),
    ):
        if value is not None:
            setattr(terms, name, value)
    terms.save()
    return terms
