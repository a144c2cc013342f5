import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import ErrorCode, FieldError, ServiceError
from marketplace import images, tasks
from marketplace.models import Category, Listing, ListingImage, ListingPriceChange

EDITABLE_FIELDS = ("title", "description", "brand", "size", "colour", "condition", "category_id", "price", "original_price",
                   "currency", "quantity")
MAX_PRICE = Decimal("99999999.99")  # what DecimalField(max_digits=10, decimal_places=2) holds
MAX_QUANTITY = 999
OPEN_STATUSES = (Listing.Status.DRAFT, Listing.Status.AVAILABLE)


@transaction.atomic
def create_listing(*, seller, title: str, category_id: int, price: Decimal, currency: str | None = None,
                   publish: bool = True, **details) -> Listing:
    """A new listing, available at once (or a draft); `details` are other EDITABLE_FIELDS."""
    listing = Listing(seller=seller, status=Listing.Status.AVAILABLE if publish else Listing.Status.DRAFT)
    _apply(listing, {"title": title, "category_id": category_id, "price": price,
                     "currency": currency or settings.MARKETPLACE_DEFAULT_CURRENCY, **details})
    _validate(listing)
    if publish:
        listing.lowest_notified_price = listing.price
    listing.save()
    return listing


@transaction.atomic
def update_listing(*, listing: Listing, status: str | None = None, **changes) -> Listing:
    """Edit an open listing; `status` moves it between draft and available (publishing relists it
    at the top). A price change is kept in the price history, and a big enough drop notifies the
    likers (sellers.services.on_price_change), in this transaction."""
    listing = _lock_open(listing)
    before = (listing.price, listing.currency)
    _apply(listing, changes)
    if listing.currency != before[1] and listing.status != Listing.Status.DRAFT:
        raise ServiceError(ErrorCode.INVALID_CURRENCY, "The currency of a published listing cannot change.",
                           "currency")
    if status is not None and status != listing.status:
        if status not in OPEN_STATUSES:
            raise ServiceError(ErrorCode.INVALID, "A listing can only be made a draft or available.", "status")
        listing.status = status
        if status == Listing.Status.AVAILABLE:
            listing.listed_at = timezone.now()
            if listing.lowest_notified_price is None:
                listing.lowest_notified_price = listing.price
    _validate(listing)
    listing.save()
    if listing.price != before[0]:
        change = ListingPriceChange.objects.create(listing=listing, old_price=before[0], new_price=listing.price,
                                                   currency=listing.currency)
        from sellers.services import on_price_change  # sellers builds on marketplace: imported on use

        on_price_change(listing=listing, change=change)
    return listing


@transaction.atomic
def remove_listing(*, listing: Listing) -> Listing:
    """Take a listing down for good; sold ones stay, they belong to an order's history."""
    listing = _lock_open(listing)
    listing.status = Listing.Status.REMOVED
    listing.save(update_fields=["status", "updated_at"])
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
                raise ServiceError(ErrorCode.TOO_MANY_IMAGES,
                                   f"A listing has at most {settings.LISTING_MAX_IMAGES} photos.", "image")
            if cover:
                listing.images.update(position=F("position") + 1)
            image = ListingImage.objects.create(listing=listing, position=0 if cover else max(positions, default=-1) + 1,
                                                original=path, width=encoded.width, height=encoded.height)
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
        raise ServiceError(ErrorCode.INVALID, "List every photo of this listing exactly once.", "imageIds")
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
        renditions[name] = image.original if resized is None else default_storage.save(
            f"{stem}-{width}w.jpg", ContentFile(resized.content))
    ListingImage.objects.filter(pk=image_id).update(renditions=renditions)


def _lock_open(listing: Listing) -> Listing:
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.status not in OPEN_STATUSES:
        raise ServiceError(ErrorCode.LISTING_NOT_AVAILABLE, "This listing is reserved, sold or removed; it cannot change.",
                           "listingId")
    return listing


def _apply(listing: Listing, changes: dict) -> None:
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable listing field")
        if name == "category_id" and not Category.objects.filter(pk=value).exists():
            raise ServiceError(ErrorCode.NOT_FOUND, "This category does not exist.", "categoryId")
        if name == "currency":
            value = value.strip().upper()
        setattr(listing, name, value.strip() if isinstance(value, str) else value)


def _validate(listing: Listing) -> None:
    errors = [*_price_errors(listing.price, "price"), *_price_errors(listing.original_price, "original_price")]
    if listing.currency not in settings.MARKETPLACE_CURRENCIES:
        errors.append(FieldError(ErrorCode.INVALID_CURRENCY,
                                 f"Choose one of {', '.join(settings.MARKETPLACE_CURRENCIES)}.", "currency"))
    if not 1 <= listing.quantity <= MAX_QUANTITY:
        errors.append(FieldError(ErrorCode.INVALID, f"Quantity is 1 to {MAX_QUANTITY}.", "quantity"))
    try:
        listing.full_clean(exclude=["seller", "category", "price", "original_price", "currency", "quantity"],
                           validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors += ServiceError.from_validation_error(exc).errors
    if errors:
        raise ServiceError.many(errors)


def _price_errors(value: Decimal | None, field: str) -> list[FieldError]:
    if value is None:
        return []
    if not value.is_finite() or not Decimal("0") < value <= MAX_PRICE:
        return [FieldError(ErrorCode.INVALID_PRICE, f"Enter a price above 0 and at most {MAX_PRICE}.", field)]
    if value != value.quantize(Decimal("0.01")):
        return [FieldError(ErrorCode.INVALID_PRICE, "Prices have at most two decimals.", field)]
    return []
