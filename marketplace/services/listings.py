"""Listings and their images, and reservations (a unit held aside for a live sale).

Locks: edits and removals lock the listing row (`_lock_open`); a change that ends offers or
bundle places (off sale, removal, new currency) takes the seller's member row first. Image
normalising runs before any lock is taken. Reservations are conditional UPDATEs, no row lock.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import CommonError, FieldError, ServiceError
from marketplace import hooks, images, tasks
from marketplace.errors import DJANGO_CODES, CheckoutError, ListingError
from marketplace.models import Category, Listing, ListingImage, ListingPriceChange
from marketplace.services._shared import _lock_member, _price_errors, _release_buyers

EDITABLE_FIELDS = (
    "title",
    "description",
    "brand",
    "size",
    "colour",
    "condition",
    "category_id",
    "price",
    "original_price",
    "currency",
    "quantity",
)


MAX_QUANTITY = 999


OPEN_STATUSES = (Listing.Status.DRAFT, Listing.Status.AVAILABLE)


@transaction.atomic
def create_listing(
    *,
    seller,
    title: str,
    category_id: int,
    price: Decimal,
    currency: str | None = None,
    publish: bool = True,
    **details,
) -> Listing:
    """A new listing, available at once (or a draft); `details` are other EDITABLE_FIELDS."""
    listing = Listing(seller=seller, status=Listing.Status.AVAILABLE if publish else Listing.Status.DRAFT)
    _apply(
        listing,
        {
            "title": title,
            "category_id": category_id,
            "price": price,
            "currency": currency or settings.MARKETPLACE_DEFAULT_CURRENCY,
            **details,
        },
    )
    _validate(listing)
    if publish:
        listing.lowest_notified_price = listing.price
    listing.save()
    return listing


@dataclass(frozen=True)
class ListingUpdate:
    listing: Listing
    price_change_outcomes: tuple = ()  # what the hooks.PRICE_CHANGE hooks made of a price change


@transaction.atomic
def update_listing(*, listing: Listing, status: str | None = None, **changes) -> ListingUpdate:
    """Edit an open listing; `status` moves it between draft and available (publishing relists it
    at the top). A price change is kept in the price history and handed to the hooks.PRICE_CHANGE
    hooks in this transaction (sellers tells the likers of a big enough drop). A move to draft (the only
    state in which the currency may change) ends the buyers' pending offers on it and takes it
    out of their open bundles, and tells them: nobody is charged in terms they did not agree to."""
    _lock_member(listing.seller_id)  # its offers may change: see the lock order under Checkout
    listing = _lock_open(listing)
    before = (listing.price, listing.currency, listing.status)
    _apply(listing, changes)
    if listing.currency != before[1] and listing.status != Listing.Status.DRAFT:
        raise ServiceError(
            ListingError.INVALID_CURRENCY, "The currency of a published listing cannot change.", "currency"
        )
    if status is not None and status != listing.status:
        if status not in OPEN_STATUSES:
            raise ServiceError(CommonError.INVALID, "A listing can only be made a draft or available.", "status")
        listing.status = status
        if status == Listing.Status.AVAILABLE:
            listing.listed_at = timezone.now()
            if listing.lowest_notified_price is None:
                listing.lowest_notified_price = listing.price
    _validate(listing)
    listing.save()
    if listing.status == Listing.Status.DRAFT and before[2] != Listing.Status.DRAFT:
        _release_buyers(listing, "was taken off sale")
    elif listing.currency != before[1]:
        _release_buyers(listing, f"is now priced in {listing.currency}")
    if listing.price != before[0]:
        change = ListingPriceChange.objects.create(
            listing=listing, old_price=before[0], new_price=listing.price, currency=listing.currency
        )
        outcomes = (hook(listing=listing, change=change) for hook in hooks.PRICE_CHANGE)
        return ListingUpdate(listing, tuple(outcome for outcome in outcomes if outcome is not None))
    return ListingUpdate(listing)


@transaction.atomic
def remove_listing(*, listing: Listing) -> Listing:
    """Take a listing down for good; sold ones stay, they belong to an order's history. Offers
    waiting on it close."""
    _lock_member(listing.seller_id)  # its offers change: see the lock order under Checkout
    listing = _lock_open(listing)
    listing.status = Listing.Status.REMOVED
    listing.save(update_fields=["status", "updated_at"])
    _release_buyers(listing, "was removed")
    return listing


def add_listing_image(*, listing: Listing, upload, cover: bool = False) -> ListingImage:
    """Validate and normalise a photo, store it last (or first, as the cover); display sizes are
    made by a task once committed."""
    encoded = images.normalise(upload)  # CPU work before any lock is taken
    path = default_storage.save(f"listings/{listing.pk}/{uuid.uuid4().hex}.jpg", ContentFile(encoded.content))
    try:
        with transaction.atomic():
            listing = _lock_open(listing)
            positions = list(listing.images.values_list("position", flat=True))
            if len(positions) >= settings.LISTING_MAX_IMAGES:
                raise ServiceError(
                    ListingError.TOO_MANY_IMAGES,
                    f"A listing has at most {settings.LISTING_MAX_IMAGES} photos.",
                    "image",
                )
            if cover:
                listing.images.update(position=F("position") + 1)
            image = ListingImage.objects.create(
                listing=listing,
                position=0 if cover else max(positions, default=-1) + 1,
                original=path,
                width=encoded.width,
                height=encoded.height,
            )
            transaction.on_commit(lambda: tasks.make_listing_image_renditions.delay(image.pk))
    except BaseException:
        default_storage.delete(path)
        raise
    return image


@transaction.atomic
def reorder_listing_images(*, listing: Listing, image_ids: list[int]) -> list[ListingImage]:
    """Put every photo of the listing in this order; the first is the cover."""
    listing = _lock_open(listing)
    photos = {image.pk: image for image in listing.images.all()}
    if sorted(image_ids) != sorted(photos):
        raise ServiceError(CommonError.INVALID, "List every photo of this listing exactly once.", "imageIds")
    for position, image_id in enumerate(image_ids):
        photos[image_id].position = position
    ListingImage.objects.bulk_update(photos.values(), ["position"])
    return [photos[image_id] for image_id in image_ids]


@transaction.atomic
def remove_listing_image(*, image: ListingImage) -> None:
    _lock_open(image.listing)
    image.delete()
    files = {image.original, *image.renditions.values()}
    transaction.on_commit(lambda: [default_storage.delete(path) for path in files])


def make_image_renditions(*, image_id: int) -> None:
    """Store the display sizes of a photo (idempotent: a photo that has them is left alone)."""
    image = ListingImage.objects.filter(pk=image_id).first()
    if image is None or set(image.renditions) == set(settings.LISTING_IMAGE_WIDTHS):
        return
    with default_storage.open(image.original) as original:
        content = original.read()
    stem = image.original.removesuffix(".jpg")
    renditions = {}
    for name, width in settings.LISTING_IMAGE_WIDTHS.items():
        resized = images.resize_to_width(content, width)
        # A photo narrower than a size is shown as it is: never upscaled.
        renditions[name] = (
            image.original
            if resized is None
            else default_storage.save(f"{stem}-{width}w.jpg", ContentFile(resized.content))
        )
    ListingImage.objects.filter(pk=image_id).update(renditions=renditions)


def _lock_open(listing: Listing) -> Listing:
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.status not in OPEN_STATUSES:
        raise ServiceError(
            ListingError.LISTING_NOT_AVAILABLE,
            "This listing is reserved, sold or removed; it cannot change.",
            "listingId",
        )
    return listing


def _apply(listing: Listing, changes: dict) -> None:
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable listing field")
        if name == "category_id" and not Category.objects.filter(pk=value).exists():
            raise ServiceError(CommonError.NOT_FOUND, "This category does not exist.", "categoryId")
        if name == "currency":
            value = value.strip().upper()
        setattr(listing, name, value.strip() if isinstance(value, str) else value)


def _validate(listing: Listing) -> None:
    errors = [*_price_errors(listing.price, "price"), *_price_errors(listing.original_price, "original_price")]
    if listing.currency not in settings.MARKETPLACE_CURRENCIES:
        errors.append(
            FieldError(
                ListingError.INVALID_CURRENCY,
                f"Choose one of {', '.join(settings.MARKETPLACE_CURRENCIES)}.",
                "currency",
            )
        )
    if not 1 <= listing.quantity <= MAX_QUANTITY:
        errors.append(FieldError(CommonError.INVALID, f"Quantity is 1 to {MAX_QUANTITY}.", "quantity"))
    try:
        listing.full_clean(
            exclude=["seller", "category", "price", "original_price", "currency", "quantity"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors += ServiceError.from_validation_error(exc, codes=DJANGO_CODES).errors
    if errors:
        raise ServiceError.many(errors)


def reserve_listing(*, listing: Listing) -> Listing:
    """Hold an available listing for one buyer (a live auction running): it stays visible but no
    one else can buy it (nor accept an offer on it) until released or bought with
    `allow_reserved=True`."""
    held = Listing.objects.filter(pk=listing.pk, status=Listing.Status.AVAILABLE, quantity__gte=1).update(
        status=Listing.Status.RESERVED, updated_at=timezone.now()
    )
    listing = Listing.objects.get(pk=listing.pk)
    if not held:
        raise _unavailable(listing)
    return listing


def release_listing(*, listing: Listing) -> Listing:
    """Make a reserved listing available again; a listing that is not reserved is left as it is."""
    Listing.objects.filter(pk=listing.pk, status=Listing.Status.RESERVED).update(
        status=Listing.Status.AVAILABLE, updated_at=timezone.now()
    )
    return Listing.objects.get(pk=listing.pk)


def _unavailable(listing: Listing) -> ServiceError:
    """Why `listing` cannot be bought now."""
    if listing.status == Listing.Status.SOLD or (listing.status == Listing.Status.AVAILABLE and not listing.quantity):
        return ServiceError(CheckoutError.SOLD_OUT, "This item has just sold.", "listingId")
    if listing.status == Listing.Status.RESERVED:
        return ServiceError(ListingError.LISTING_NOT_AVAILABLE, "This item is held for another buyer.", "listingId")
    return ServiceError(ListingError.LISTING_NOT_AVAILABLE, "This item is not for sale.", "listingId")


def _buyable(*, allow_reserved: bool) -> tuple[str, ...]:
    """The statuses a listing can be bought in: a reservation's holder may buy it held too."""
    return (Listing.Status.AVAILABLE, Listing.Status.RESERVED) if allow_reserved else (Listing.Status.AVAILABLE,)


def _check_buyable(buyer, listing: Listing, *, allow_reserved: bool = False) -> None:
    """The checks of a purchase that need no lock, made before the payment is authorized."""
    if listing.seller_id == buyer.pk:
        raise ServiceError(CheckoutError.CANNOT_BUY_OWN_LISTING, "This item is in your own closet.", "listingId")
    if hooks.dealing_barred(buyer.pk, listing.seller_id):
        raise ServiceError(CommonError.BLOCKED, "You cannot buy from this closet.", "listingId")
    if listing.status not in _buyable(allow_reserved=allow_reserved) or not listing.quantity:
        raise _unavailable(listing)
