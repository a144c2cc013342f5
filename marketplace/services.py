import enum
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import CommonError, FieldError, ServiceError
from marketplace import events, hooks, images, payments, pricing, selectors, tasks
from marketplace.errors import DJANGO_CODES, CheckoutError, ListingError
from marketplace.models import (
    Bundle,
    BundleItem,
    Category,
    CurationTerms,
    DomainEvent,
    IdempotencyKey,
    Listing,
    ListingImage,
    ListingPriceChange,
    Offer,
    Order,
    OrderDiscount,
    OrderLine,
    Payment,
    SellerDiscounts,
    ShippingAddress,
)
from notifications import services as notification_services
from notifications.models import Kind

logger = logging.getLogger(__name__)

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
MAX_PRICE = Decimal("99999999.99")  # what DecimalField(max_digits=10, decimal_places=2) holds
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


def _price_errors(value: Decimal | None, field: str) -> list[FieldError]:
    if value is None:
        return []
    if not value.is_finite() or not Decimal("0") < value <= MAX_PRICE:
        return [FieldError(ListingError.INVALID_PRICE, f"Enter a price above 0 and at most {MAX_PRICE}.", field)]
    if value != value.quantize(Decimal("0.01")):
        return [FieldError(ListingError.INVALID_PRICE, "Prices have at most two decimals.", field)]
    return []


# Reservations ---------------------------------------------------------------------------------


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


# Shipping addresses and seller discounts -----------------------------------------------------

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


# Checkout --------------------------------------------------------------------------------------
#
# Every way of buying (purchase, accepted offer, bundle, add-on, live buy-now, auction) runs
# `_checkout`: the payment is authorized with no lock held, then one transaction claims the
# client's idempotency key, takes the stock with a conditional UPDATE and writes the order; the
# payment is captured once that commits, and the authorization voided if anything failed.
#
# Lock order: the request's idempotency key, an order, the seller's user row, then the closet's
# offers and listings. Whatever locks more than one offer or listing of a closet (a sale, an
# acceptance, a new offer, a cancellation, a removal) holds the seller's row first: they queue
# there instead of deadlocking on each other, and "first sale" is exact.

BINDING_SOURCES = (Order.Source.OFFER, Order.Source.AUCTION)  # no change of mind within the first hours


def purchase_listing(
    *,
    buyer,
    listing: Listing,
    idempotency_key: str,
    shipping_address_id: int | None = None,
    price: Decimal | None = None,
    source: str = Order.Source.PURCHASE,
    allow_reserved: bool = False,
) -> Order:
    """One item bought (quantity 1), the single purchase path every feature uses.

    price=None → the listing's price; a given price (accepted offer, auction win) overrides it.
    shipping_address_id=None → the buyer's default address (typed error ADDRESS_REQUIRED if none).
    allow_reserved=True lets the holder of a reservation (auction settlement, accepted offer) buy a
    RESERVED listing; otherwise only AVAILABLE ones. Idempotent on (buyer, idempotency_key): the
    same key returns the first order; the same key with different input raises
    IDEMPOTENCY_KEY_REUSED. Raises ServiceError (LISTING_NOT_AVAILABLE / SOLD_OUT /
    CANNOT_BUY_OWN_LISTING / ADDRESS_REQUIRED / PAYMENT_DECLINED / PRICE_CHANGED / …) and changes
    nothing.

    Call it outside a transaction of your own: the provider authorizes before the purchase's
    transaction, so that no lock is held over a network call, and a rollback of yours after it
    returned would leave an authorization behind (it lapses at the provider).
    """
    price = None if price is None else validated_money(price, "price")
    request = _keyed(
        buyer,
        idempotency_key,
        "purchase",
        listing=listing.pk,
        shipping_address=shipping_address_id,
        price=price,
        source=source,
        allow_reserved=allow_reserved,
    )
    return _idempotent(
        request,
        lambda: _buy_listing(
            buyer=buyer,
            listing=listing,
            request=request,
            price=price,
            source=source,
            shipping_address_id=shipping_address_id,
            allow_reserved=allow_reserved,
        ),
    )


def _buy_listing(
    *,
    buyer,
    listing: Listing,
    request: "_Request",
    price: Decimal | None,
    source: str,
    shipping_address_id: int | None = None,
    allow_reserved: bool = False,
    accepting: "_Acceptance | None" = None,
) -> Order:
    listing = Listing.objects.get(pk=listing.pk)
    _check_buyable(buyer, listing, allow_reserved=allow_reserved)
    currency = accepting.offer.currency if accepting else listing.currency
    _check_currency([listing], currency)
    address = _shipping_address(buyer, shipping_address_id)
    terms = selectors.seller_terms(listing.seller_id)

    def basket(current: Listing) -> pricing.Basket:
        return pricing.Basket(
            seller_id=current.seller_id,
            buyer_id=buyer.pk,
            currency=current.currency,
            item_prices=(current.price if price is None else price,),
            shipping_fee=selectors.label_fee(current.currency),
            seller_terms=terms,
            offer_shipping_discount=_shipping_discount_of(accepting),
        )

    def place():
        _lock_member(listing.seller_id)
        if accepting:
            accepting.claim()
        sole_unit = _take_stock(listing, allow_reserved=allow_reserved)
        current = Listing.objects.get(pk=listing.pk)
        _check_currency([current], currency)
        order = _write_order(
            buyer=buyer, source=source, address=address, basket=basket(current), lines=[(current, sole_unit)]
        )
        if accepting:
            accepting.settle(order)
        return order, order.total

    return _checkout(request=request, amount=pricing.price(basket(listing)).total, currency=currency, place=place)


def checkout_bundle(*, buyer, bundle: Bundle, idempotency_key: str, shipping_address_id: int | None = None) -> Order:
    """Buy every item of the buyer's open bundle as one order: one parcel, one label fee, the
    seller's bundle discount. Idempotent on the key like purchase_listing."""
    request = _keyed(buyer, idempotency_key, "checkout_bundle", bundle=bundle.pk, shipping_address=shipping_address_id)
    if bundle.buyer_id != buyer.pk:
        raise ServiceError(CommonError.NOT_FOUND, "This bundle does not exist.", "bundleId")
    return _idempotent(
        request, lambda: _buy_bundle(bundle=bundle, request=request, shipping_address_id=shipping_address_id)
    )


def _buy_bundle(
    *,
    bundle: Bundle,
    request: "_Request",
    shipping_address_id: int | None = None,
    accepting: "_Acceptance | None" = None,
) -> Order:
    buyer = bundle.buyer
    if bundle.status != Bundle.Status.OPEN:
        raise ServiceError(CheckoutError.BUNDLE_ALREADY_ORDERED, "This bundle was already checked out.", "bundleId")
    listings = _bundle_listings(bundle)
    for listing in listings:
        _check_buyable(buyer, listing)
    _check_single_currency(listings)
    currency = accepting.offer.currency if accepting else listings[0].currency
    _check_currency(listings, currency)
    address = _shipping_address(buyer, shipping_address_id)
    terms = selectors.seller_terms(bundle.seller_id)
    offer_price = accepting.offer.amount if accepting else None

    def basket(current: list[Listing]) -> pricing.Basket:
        return pricing.Basket(
            seller_id=bundle.seller_id,
            buyer_id=buyer.pk,
            currency=current[0].currency,
            item_prices=tuple(listing.price for listing in current),
            shipping_fee=selectors.label_fee(current[0].currency),
            seller_terms=terms,
            bundled=True,
            offer_price=offer_price,
            offer_shipping_discount=_shipping_discount_of(accepting),
        )

    def place():
        _lock_member(bundle.seller_id)
        locked = Bundle.objects.select_for_update().get(pk=bundle.pk)
        if locked.status != Bundle.Status.OPEN or _bundle_listings(locked) != listings:
            raise ServiceError(
                CheckoutError.PRICE_CHANGED, "This bundle changed meanwhile; review it and try again.", "bundleId"
            )
        if accepting:
            accepting.claim()
        sole_units = [_take_stock(listing) for listing in listings]
        current = _bundle_listings(locked)
        _check_currency(current, currency)
        order = _write_order(
            buyer=buyer,
            source=Order.Source.OFFER if accepting else Order.Source.BUNDLE,
            address=address,
            basket=basket(current),
            lines=list(zip(current, sole_units, strict=False)),
        )
        locked.status, locked.order = Bundle.Status.ORDERED, order
        locked.save(update_fields=["status", "order"])
        if accepting:
            accepting.settle(order)
        return order, order.total

    return _checkout(request=request, amount=pricing.price(basket(listings)).total, currency=currency, place=place)


def add_to_order(*, buyer, order: Order, listing: Listing, idempotency_key: str) -> Order:
    """Buy one more item from the same seller into an order's parcel, with no second label fee,
    while the add-on window is open (ORDER_ADD_ON_WINDOW after purchase, and before shipping).
    The item is charged at its price; the order's discounts stay as they were. Idempotent on the key."""
    request = _keyed(buyer, idempotency_key, "add_to_order", order=order.pk, listing=listing.pk)
    if order.buyer_id != buyer.pk:
        raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", "orderId")
    return _idempotent(request, lambda: _add_to_order(buyer, order.pk, listing.pk, request))


def _add_to_order(buyer, order_id: int, listing_id: int, request: "_Request") -> Order:
    order, listing = Order.objects.get(pk=order_id), Listing.objects.get(pk=listing_id)
    _check_add_on_window(order)
    if listing.seller_id != order.seller_id:
        raise ServiceError(
            CheckoutError.DIFFERENT_SELLER, "Only items from the same closet can join this parcel.", "listingId"
        )
    if listing.currency != order.currency:
        raise ServiceError(ListingError.INVALID_CURRENCY, "This item is priced in another currency.", "listingId")
    if order.lines.filter(listing=listing).exists():
        raise ServiceError(CommonError.INVALID, "This item is already in the order.", "listingId")
    _check_buyable(buyer, listing)

    def totals_with(current: Order, price: Decimal) -> pricing.Totals:
        prices = [*current.lines.filter(active=True).values_list("price", flat=True), price]
        kept = [pricing.Discount(d.source, d.amount, d.applies_to, d.description) for d in current.discounts.all()]
        return pricing.order_totals(prices, current.shipping_fee, kept)

    def place():
        current = Order.objects.select_for_update().get(pk=order.pk)
        _check_add_on_window(current)
        _lock_member(current.seller_id)
        sole_unit = _take_stock(listing)
        item = Listing.objects.get(pk=listing.pk)
        totals = totals_with(current, item.price)
        OrderLine.objects.create(
            order=current,
            listing=item,
            title=item.title,
            price=item.price,
            source=Order.Source.ADD_ON,
            sole_unit=sole_unit,
        )
        charged = totals.total - current.total
        current.item_total, current.total = totals.items, totals.total
        current.save(update_fields=["item_total", "total"])
        notification_services.notify(
            recipient_ids=[current.seller_id],
            kind=Kind.ITEM_SOLD,
            title=f"Sold: {item.title}",
            body=f"@{buyer.username} added it to order {current.pk}: ship them together.",
            dedupe_key=f"order:{current.pk}:add_on:{item.pk}",
            target=item,
            data={"orderId": _gid(current)},
        )
        return current, charged

    return _checkout(
        request=request,
        amount=totals_with(order, listing.price).total - order.total,
        currency=order.currency,
        place=place,
    )


def _check_single_currency(listings: list[Listing]) -> None:
    if len({listing.currency for listing in listings}) > 1:
        raise ServiceError(
            CheckoutError.MIXED_CURRENCIES,
            "A basket is paid in one currency: remove the items priced in another.",
            "bundleId",
        )


def _check_currency(listings: list[Listing], currency: str) -> None:
    """What is charged is in the currency the buyer saw (the price shown, the offer accepted)."""
    if any(listing.currency != currency for listing in listings):
        raise ServiceError(CheckoutError.CURRENCY_CHANGED, f"This item is no longer priced in {currency}.", "listingId")


def _shipping_discount_of(accepting: "_Acceptance | None") -> Decimal:
    return accepting.offer.shipping_discount if accepting else Decimal("0.00")


def _check_add_on_window(order: Order) -> None:
    if order.status != Order.Status.PAID or timezone.now() >= order.add_on_until:
        raise ServiceError(
            CheckoutError.ADD_ON_WINDOW_CLOSED,
            "Items can join this parcel only within a day of purchase and before it ships.",
            "orderId",
        )


def _checkout(*, request: "_Request", amount: Decimal, currency: str, place) -> Order:
    """Authorize `amount`, then in one transaction claim the key and run `place`, which takes the
    stock, writes the order and returns (order, what it charges now): if that is not `amount`,
    a price moved since the quote. The payment is captured after commit, voided on failure."""
    provider = payments.provider()
    try:
        reference = provider.authorize(amount=amount, currency=currency, idempotency_key=f"authorize:{uuid.uuid4()}")
    except payments.PaymentDeclined as declined:
        raise ServiceError(CheckoutError.PAYMENT_DECLINED, str(declined)) from None
    try:
        with transaction.atomic():
            record = request.claim()
            order, charged = place()
            if charged != amount:
                raise ServiceError(CheckoutError.PRICE_CHANGED, "The price changed meanwhile; review it and try again.")
            payment = Payment.objects.create(
                order=order, provider=settings.PAYMENT_PROVIDER, reference=reference, amount=amount, currency=currency
            )
            record.order = order
            record.save(update_fields=["order"])
            transaction.on_commit(lambda: tasks.settle_payment.delay(payment.pk), robust=True)
    except BaseException:
        _void(provider, reference)
        raise
    return order


def _void(provider: payments.PaymentProvider, reference: str) -> None:
    try:
        provider.void(reference=reference, idempotency_key=f"void:{reference}")
    except Exception:  # noqa: BLE001 - the purchase's own error matters more; the hold lapses by itself
        logger.exception("Could not void authorization %s; it lapses at the provider.", reference)


def _take_stock(listing: Listing, *, allow_reserved: bool = False) -> bool:
    """Take one unit of the listing, or raise SOLD_OUT / LISTING_NOT_AVAILABLE. The conditional
    UPDATE decides between racing buyers (the row lock makes the losers re-read the quantity);
    the listing is SOLD once its quantity reaches 0, and then its pending offers close. Returns
    whether the unit was the listing's only one (OrderLine.sole_unit)."""
    taken = Listing.objects.filter(
        pk=listing.pk, status__in=_buyable(allow_reserved=allow_reserved), quantity__gte=1
    ).update(
        quantity=F("quantity") - 1,
        updated_at=timezone.now(),
        status=Case(When(quantity=1, then=Value(Listing.Status.SOLD)), default=Value(Listing.Status.AVAILABLE)),
    )
    if not taken:
        raise _unavailable(Listing.objects.get(pk=listing.pk))
    if Listing.objects.filter(pk=listing.pk, quantity__gt=0).exists():
        return False
    _close_pending_offers(listing)
    return not OrderLine.objects.filter(listing_id=listing.pk, active=True).exists()


def _write_order(
    *, buyer, source: str, address: ShippingAddress, basket: pricing.Basket, lines: list[tuple[Listing, bool]]
) -> Order:
    """The order, its lines and discounts as `pricing.price` makes them; announced to the seller."""
    totals = pricing.price(basket)
    now = timezone.now()
    order = Order.objects.create(
        buyer=buyer,
        seller_id=basket.seller_id,
        source=source,
        currency=basket.currency,
        item_total=totals.items,
        shipping_fee=totals.shipping,
        discount_total=totals.discount_total,
        total=totals.total,
        placed_at=now,
        add_on_until=now + settings.ORDER_ADD_ON_WINDOW,
        **{name: getattr(address, name) for name in ShippingAddress.ADDRESS_FIELDS},
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, listing=listing, title=listing.title, price=price, source=source, sole_unit=sole_unit)
        for (listing, sole_unit), price in zip(lines, basket.item_prices, strict=False)
    )
    OrderDiscount.objects.bulk_create(
        OrderDiscount(
            order=order,
            source=discount.source,
            applies_to=discount.applies_to,
            amount=discount.amount,
            description=discount.description,
        )
        for discount in totals.discounts
        if discount.amount
    )
    for discount in totals.discounts:
        if discount.fund and discount.amount:
            discount.fund(order, discount.amount)
    _announce_order(order, [listing for listing, _ in lines])
    return order


def _announce_order(order: Order, listings: list[Listing]) -> None:
    events.record(
        DomainEvent.Name.ORDER_PLACED,
        order_id=order.pk,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        source=order.source,
        total=str(order.total),
        currency=order.currency,
    )
    # Exact under the seller's row lock: no other order of this seller is being written.
    if (
        not Order.objects.filter(seller_id=order.seller_id)
        .exclude(pk=order.pk)
        .exclude(status=Order.Status.CANCELLED)
        .exists()
    ):
        events.record(DomainEvent.Name.FIRST_SALE, order_id=order.pk, seller_id=order.seller_id)
    what = listings[0].title if len(listings) == 1 else f"{len(listings)} items"
    notification_services.notify(
        recipient_ids=[order.seller_id],
        kind=Kind.ITEM_SOLD,
        title=f"Sold: {what}",
        body=f"@{order.buyer.username} paid {order.total} {order.currency}. "
        f"Ship it within {settings.ORDER_UNSHIPPED_CANCEL_AFTER.days} days.",
        dedupe_key=f"order:{order.pk}:placed",
        target=listings[0],
        data={"orderId": _gid(order)},
    )


def _shipping_address(buyer, address_id: int | None) -> ShippingAddress:
    addresses = ShippingAddress.objects.filter(user_id=buyer.pk)
    address = addresses.filter(**{"is_default": True} if address_id is None else {"pk": address_id}).first()
    if address is None and address_id is None:
        raise ServiceError(CheckoutError.ADDRESS_REQUIRED, "Add a shipping address first.", "shippingAddressId")
    if address is None:
        raise ServiceError(CommonError.NOT_FOUND, "This address is not one of yours.", "shippingAddressId")
    return address


def _bundle_listings(bundle: Bundle) -> list[Listing]:
    listings = list(Listing.objects.filter(bundle_items__bundle=bundle).order_by("pk"))
    if not listings:
        raise ServiceError(CheckoutError.BUNDLE_EMPTY, "This bundle is empty.", "bundleId")
    return listings


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


# Idempotency keys ------------------------------------------------------------------------------

MAX_KEY_LENGTH = 100


class _KeyTaken(Exception):
    """A concurrent request with the same key committed first."""


@dataclass(frozen=True)
class _Request:
    """A write under a client's idempotency key: the key, and the fingerprint of its input."""

    user: User
    key: str
    fingerprint: str

    def replay(self) -> Order | Offer | None:
        """What this key already made, or None; the same key with other input is an error."""
        record = (
            IdempotencyKey.objects.filter(user_id=self.user.pk, key=self.key).select_related("order", "offer").first()
        )
        if record is None:
            return None
        if record.fingerprint != self.fingerprint:
            raise ServiceError(
                CheckoutError.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was used for another request; use a new key.",
                "idempotencyKey",
            )
        return record.order or record.offer

    def claim(self) -> IdempotencyKey:
        """Insert the key in the caller's transaction; the unique constraint lets one request win."""
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user_id=self.user.pk, key=self.key, fingerprint=self.fingerprint)
        except IntegrityError:
            raise _KeyTaken from None


def _idempotent(request: _Request | None, write: Callable[[], Order | Offer]) -> Order | Offer:
    """What the request's key already made, else `write()`. A refusal is checked against the key
    once more: a concurrent request with the same key may have just won (taken the item, or the
    key itself), and then its result is this request's too."""
    if request is None:
        return write()
    first = request.replay()
    if first is not None:
        return first
    try:
        return write()
    except (ServiceError, _KeyTaken):
        first = request.replay()
        if first is None:
            raise
        return first


def _keyed(user, key: str, operation: str, **inputs) -> _Request:
    key = (key or "").strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ServiceError(
            CommonError.INVALID, f"An idempotency key has 1 to {MAX_KEY_LENGTH} characters.", "idempotencyKey"
        )
    canonical = json.dumps({"operation": operation, **inputs}, sort_keys=True, default=str)
    return _Request(user=user, key=key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest())


# Orders after purchase: one table of transitions -----------------------------------------------


class Role(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"  # periodic tasks, payment failures, staff in the admin


def _anytime(order: Order, now) -> str | None:
    return None


def _unshipped_long_enough(order: Order, now) -> str | None:
    if now >= order.placed_at + settings.ORDER_UNSHIPPED_CANCEL_AFTER:
        return None
    return f"An unshipped order can be cancelled {settings.ORDER_UNSHIPPED_CANCEL_AFTER.days} days after purchase."


def _buyer_may_cancel(order: Order, now) -> str | None:
    if order.source not in BINDING_SOURCES and now < order.placed_at + settings.ORDER_BUYER_CANCEL_WINDOW:
        return None
    if _unshipped_long_enough(order, now) is None:
        return None
    hours = settings.ORDER_BUYER_CANCEL_WINDOW // timedelta(hours=1)
    return (
        f"A purchase can be cancelled within {hours} hours (accepted offers and auctions are binding), "
        f"or once unshipped for {settings.ORDER_UNSHIPPED_CANCEL_AFTER.days} days."
    )


def _delivered_long_enough(order: Order, now) -> str | None:
    if order.delivered_at and now >= order.delivered_at + settings.ORDER_AUTO_ACCEPT_AFTER:
        return None
    return "The buyer has not had the time to check the order yet."


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    stamp: str  # the Order field that records when
    # Who may take it, and when: a role's rule says why not (a message) or None.
    rules: dict[Role, Callable[[Order, datetime], str | None]]
    refused: enum.Enum = CheckoutError.ORDER_TRANSITION_NOT_ALLOWED  # when a rule says not now


ORDER_TRANSITIONS = {
    "ship": Transition(frozenset({Order.Status.PAID}), Order.Status.SHIPPED, "shipped_at", {Role.SELLER: _anytime}),
    "deliver": Transition(
        frozenset({Order.Status.SHIPPED}),
        Order.Status.DELIVERED,
        "delivered_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _anytime},
    ),
    "accept": Transition(
        frozenset({Order.Status.SHIPPED, Order.Status.DELIVERED}),
        Order.Status.ACCEPTED,
        "accepted_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _delivered_long_enough},
    ),
    "cancel": Transition(
        frozenset({Order.Status.PAID}),
        Order.Status.CANCELLED,
        "cancelled_at",
        {Role.BUYER: _buyer_may_cancel, Role.SELLER: _unshipped_long_enough, Role.PLATFORM: _anytime},
        refused=CheckoutError.CANCELLATION_WINDOW_CLOSED,
    ),
}


def ship_order(*, order: Order, actor, tracking_number: str) -> Order:
    """The seller sent the parcel: the buyer hears of it with the tracking number."""
    tracking_number = (tracking_number or "").strip()
    if not 4 <= len(tracking_number) <= 64:
        raise ServiceError(CommonError.INVALID, "Enter the carrier's tracking number.", "trackingNumber")
    with transaction.atomic():
        order = _transition(order, "ship", actor)
        order.tracking_number = tracking_number
        order.save(update_fields=["tracking_number"])
        notification_services.notify(
            recipient_ids=[order.buyer_id],
            kind=Kind.ORDER_SHIPPED,
            title="Your order is on its way",
            body=f"Tracking number {tracking_number}.",
            dedupe_key=f"order:{order.pk}:shipped",
            target=order.lines.first().listing,
            data={"orderId": _gid(order)},
        )
    return order


@transaction.atomic
def mark_order_delivered(*, order: Order, actor) -> Order:
    return _transition(order, "deliver", actor)


@transaction.atomic
def accept_order(*, order: Order, actor) -> Order:
    """The buyer is happy with the items (the platform accepts for them some days after delivery)."""
    order = _transition(order, "accept", actor)
    if order.delivered_at is None:  # accepted straight from shipped: it evidently arrived
        order.delivered_at = order.accepted_at
        order.save(update_fields=["delivered_at"])
    return order


def cancel_order(*, order: Order, actor) -> Order:
    """Cancel an unshipped order: its items go back in stock and the buyer's money back."""
    with transaction.atomic():
        order = _transition(order, "cancel", actor)
        _lock_member(order.seller_id)  # the seller's sales ledger: "first sale" reads it
        lines = order.lines.filter(active=True)
        Listing.objects.filter(pk__in=lines.values("listing_id")).update(
            quantity=F("quantity") + 1,
            updated_at=order.cancelled_at,
            status=Case(When(status=Listing.Status.SOLD, then=Value(Listing.Status.AVAILABLE)), default=F("status")),
        )
        lines.update(active=False)
        events.record(
            DomainEvent.Name.ORDER_CANCELLED,
            order_id=order.pk,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            cancelled_by=order.cancelled_by,
        )
        payment_ids = list(order.payments.values_list("pk", flat=True))
        transaction.on_commit(lambda: [tasks.settle_payment.delay(pk) for pk in payment_ids], robust=True)
    return order


RATING_STARS = range(1, 6)


@transaction.atomic
def rate_order(*, order: Order, actor, stars: int) -> Order:
    """The buyer rates an order they accepted, 1 to 5 stars; rating again replaces it."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if _order_role(order, actor) is not Role.BUYER:
        raise ServiceError(CommonError.FORBIDDEN, "Only its buyer rates an order.", "orderId")
    if order.status != Order.Status.ACCEPTED:
        raise ServiceError(
            CheckoutError.ORDER_TRANSITION_NOT_ALLOWED, "Rate an order once you have accepted it.", "orderId"
        )
    if stars not in RATING_STARS:
        raise ServiceError(CommonError.INVALID, "Give 1 to 5 stars.", "stars")
    order.buyer_rating, order.rated_at = stars, timezone.now()
    order.save(update_fields=["buyer_rating", "rated_at"])
    return order


def auto_accept_orders(*, now: datetime) -> int:
    """Accept the orders delivered ORDER_AUTO_ACCEPT_AFTER ago that their buyers did not."""
    due = Order.objects.filter(status=Order.Status.DELIVERED, delivered_at__lte=now - settings.ORDER_AUTO_ACCEPT_AFTER)
    accepted = 0
    for order_id in due.order_by("delivered_at").values_list("pk", flat=True).iterator(chunk_size=500):
        try:
            accept_order(order=Order(pk=order_id), actor=None)
            accepted += 1
        except ServiceError:
            continue  # the buyer accepted (or it changed) meanwhile
    return accepted


def _transition(order: Order, action: str, actor) -> Order:
    """Lock the order and move it along ORDER_TRANSITIONS, or raise a typed error (nothing changed)."""
    transition = ORDER_TRANSITIONS[action]
    order = Order.objects.select_for_update().get(pk=order.pk)
    role = _order_role(order, actor)
    rule = transition.rules.get(role)
    if rule is None:
        raise ServiceError(CommonError.FORBIDDEN, f"The {role} of an order cannot {action} it.")
    if order.status not in transition.sources:
        raise ServiceError(
            CheckoutError.ORDER_TRANSITION_NOT_ALLOWED,
            f"This order is {order.get_status_display().lower()}: it cannot {action} now.",
        )
    now = timezone.now()
    refusal = rule(order, now)
    if refusal:
        raise ServiceError(transition.refused, refusal)
    order.status = transition.target
    setattr(order, transition.stamp, now)
    fields = ["status", transition.stamp]
    if action == "cancel":
        order.cancelled_by = role
        fields.append("cancelled_by")
    order.save(update_fields=fields)
    return order


def _order_role(order: Order, actor) -> Role:
    if actor is None or (actor.is_staff and actor.pk not in (order.buyer_id, order.seller_id)):
        return Role.PLATFORM
    if actor.pk == order.buyer_id:
        return Role.BUYER
    if actor.pk == order.seller_id:
        return Role.SELLER
    raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", "orderId")


# Payments after commit -------------------------------------------------------------------------


@dataclass(frozen=True)
class _PaymentStep:
    busy: str  # the in-flight status: whoever sets it makes the provider call
    call: Callable[[payments.PaymentProvider, Payment], None]
    done: str
    failed: str


def _capture(provider, payment):
    provider.capture(reference=payment.reference, amount=payment.amount, idempotency_key=f"capture:{payment.pk}")


def _void_payment(provider, payment):
    provider.void(reference=payment.reference, idempotency_key=f"void:{payment.reference}")


def _refund(provider, payment):
    provider.refund(reference=payment.reference, amount=payment.amount, idempotency_key=f"refund:{payment.pk}")


# A hold the provider refuses to release lapses by itself: voided either way.
_VOID = _PaymentStep(Payment.Status.VOIDING, _void_payment, Payment.Status.VOIDED, Payment.Status.VOIDED)
# (payment status, is the order cancelled) → the step that brings the payment in line with its order
PAYMENT_STEPS = {
    (Payment.Status.AUTHORIZED, False): _PaymentStep(
        Payment.Status.CAPTURING, _capture, Payment.Status.CAPTURED, Payment.Status.CAPTURE_FAILED
    ),
    (Payment.Status.AUTHORIZED, True): _VOID,
    (Payment.Status.CAPTURE_FAILED, True): _VOID,
    (Payment.Status.CAPTURED, True): _PaymentStep(
        Payment.Status.REFUNDING, _refund, Payment.Status.REFUNDED, Payment.Status.REFUND_FAILED
    ),
}
# Where a payment caught in flight (a killed worker) goes back to, to be tried again.
PAYMENT_RETRY_FROM = {
    Payment.Status.CAPTURING: Payment.Status.AUTHORIZED,
    Payment.Status.VOIDING: Payment.Status.AUTHORIZED,
    Payment.Status.REFUNDING: Payment.Status.CAPTURED,
}


def settle_payment(*, payment_id: int) -> None:
    """Bring a payment in line with its order: capture it while the order stands, void or refund it
    once cancelled. Runs after commit, outside any lock; each provider call is claimed by a
    conditional UPDATE into an in-flight status, so concurrent or repeated runs call once. A failed
    capture cancels the order (items back in stock) and then voids the authorization; if the order
    has shipped meanwhile, staff find the failed capture in the admin."""
    while True:
        payment = Payment.objects.select_related("order").get(pk=payment_id)
        step = PAYMENT_STEPS.get((payment.status, payment.order.status == Order.Status.CANCELLED))
        if step is None or not _move_payment(payment.pk, payment.status, step.busy):
            return  # settled, or another run holds this step and will take the next
        try:
            step.call(payments.provider(payment.provider), payment)
        except payments.PaymentDeclined as declined:
            _move_payment(payment.pk, step.busy, step.failed, detail=str(declined)[:200])
            if step.failed == Payment.Status.CAPTURE_FAILED:
                try:
                    cancel_order(order=payment.order, actor=None)
                except ServiceError:
                    logger.warning("Payment %s failed to capture after order %s shipped.", payment.pk, payment.order_id)
                    return
        except BaseException:
            # The provider was not reached, or its answer was lost: back to where a retry (or the
            # sweep) calls again with the same idempotency key.
            _move_payment(payment.pk, step.busy, payment.status)
            raise
        else:
            _move_payment(payment.pk, step.busy, step.done)


def stalled_payments(*, now: datetime) -> list[int]:
    """Payments left out of line with their order for CHECKOUT_SWEEP_GRACE (a lost task, a worker
    killed mid call), put back where settle_payment takes them again; returns their ids. The
    provider calls carry idempotency keys, so a call that did go through is not made twice."""
    stalled = Payment.objects.filter(updated_at__lt=now - settings.CHECKOUT_SWEEP_GRACE)
    ids = set()
    for busy, before in PAYMENT_RETRY_FROM.items():
        caught = list(stalled.filter(status=busy).values_list("pk", flat=True)[:1000])
        Payment.objects.filter(pk__in=caught, status=busy).update(status=before, updated_at=now)
        ids.update(caught)
    unsettled = stalled.filter(
        Q(status=Payment.Status.AUTHORIZED)
        | Q(status__in=[Payment.Status.CAPTURED, Payment.Status.CAPTURE_FAILED], order__status=Order.Status.CANCELLED)
    )
    ids.update(unsettled.values_list("pk", flat=True)[:1000])
    return sorted(ids)


def _move_payment(payment_id: int, from_status: str, to_status: str, detail: str = "") -> bool:
    return bool(
        Payment.objects.filter(pk=payment_id, status=from_status).update(
            status=to_status, detail=detail, updated_at=timezone.now()
        )
    )


# Offers ----------------------------------------------------------------------------------------


def create_offer(
    *,
    buyer,
    listing: Listing,
    amount: Decimal,
    source: str = Offer.Source.BUYER_OFFER,
    shipping_discount: Decimal | None = None,
    idempotency_key: str | None = None,
) -> Offer:
    """Open a negotiation on a listing. A buyer's offer (BUYER_OFFER) is binding: the seller may
    accept it at once, so the buyer needs a default address; a seller's offer to a liker
    (OFFER_TO_LIKERS) waits for the liker. Either way: at least OFFER_MIN_PERCENT of the list
    price and below it; one pending offer per buyer and listing; it expires after OFFER_LIFETIME.
    `shipping_discount` comes off the label fee if accepted. With a key, a retry returns the first offer."""
    amount = validated_money(amount, "amount")
    request = (
        _keyed(
            buyer,
            idempotency_key,
            "offer",
            listing=listing.pk,
            amount=amount,
            source=source,
            shipping_discount=shipping_discount,
        )
        if idempotency_key is not None
        else None
    )

    def make() -> Offer:
        current = Listing.objects.get(pk=listing.pk)
        _check_buyable(buyer, current)
        return _open_offer(
            buyer=buyer,
            seller_id=current.seller_id,
            listing=current,
            bundle=None,
            list_price=current.price,
            currency=current.currency,
            amount=amount,
            source=Offer.Source(source),
            shipping_discount=shipping_discount,
            request=request,
        )

    return _idempotent(request, make)


def make_bundle_offer(*, buyer, bundle: Bundle, amount: Decimal, idempotency_key: str | None = None) -> Offer:
    """Offer a price for the whole of an open bundle (the same rules as create_offer, on the sum of
    its items' prices); while it is pending the bundle cannot change."""
    amount = validated_money(amount, "amount")
    if bundle.buyer_id != buyer.pk:
        raise ServiceError(CommonError.NOT_FOUND, "This bundle does not exist.", "bundleId")
    request = (
        _keyed(buyer, idempotency_key, "bundle_offer", bundle=bundle.pk, amount=amount)
        if idempotency_key is not None
        else None
    )

    def make() -> Offer:
        if bundle.status != Bundle.Status.OPEN:
            raise ServiceError(CheckoutError.BUNDLE_ALREADY_ORDERED, "This bundle was already checked out.", "bundleId")
        listings = _bundle_listings(bundle)
        for listing in listings:
            _check_buyable(buyer, listing)
        _check_single_currency(listings)
        return _open_offer(
            buyer=buyer,
            seller_id=bundle.seller_id,
            listing=None,
            bundle=bundle,
            list_price=sum(listing.price for listing in listings),
            currency=listings[0].currency,
            amount=amount,
            source=Offer.Source.BUYER_OFFER,
            shipping_discount=None,
            request=request,
        )

    return _idempotent(request, make)


def _open_offer(
    *,
    buyer,
    seller_id: int,
    listing: Listing | None,
    bundle: Bundle | None,
    list_price: Decimal,
    currency: str,
    amount: Decimal,
    source: str,
    shipping_discount: Decimal | None,
    request: _Request | None,
) -> Offer:
    floor = _offer_floor(list_price)
    if amount < floor:
        raise ServiceError(CheckoutError.OFFER_TOO_LOW, f"Offer at least {floor} {currency}.", "amount")
    if amount >= list_price:
        raise ServiceError(CheckoutError.OFFER_TOO_HIGH, "Offer less than the price, or buy it now.", "amount")
    shipping_discount = (
        validated_money(shipping_discount, "shipping_discount") if shipping_discount else Decimal("0.00")
    )
    from_buyer = source == Offer.Source.BUYER_OFFER
    if from_buyer:
        _shipping_address(buyer, None)  # binding: the seller's acceptance ships it there
    now = timezone.now()
    with transaction.atomic():
        record = request.claim() if request else None
        _lock_member(seller_id)
        pending = Offer.objects.select_for_update().filter(status=Offer.Status.PENDING, buyer=buyer)
        pending = pending.filter(listing=listing) if listing else pending.filter(bundle=bundle)
        for stale in pending.filter(expires_at__lte=now):
            _expire(stale)
        if pending.filter(expires_at__gt=now).exists():
            raise ServiceError(
                CheckoutError.OFFER_ALREADY_PENDING,
                "You already have an offer waiting on this.",
                "listingId" if listing else "bundleId",
            )
        offer = Offer.objects.create(
            listing=listing,
            bundle=bundle,
            buyer=buyer,
            seller_id=seller_id,
            source=source,
            currency=currency,
            list_price=list_price,
            turn=Offer.Party.SELLER if from_buyer else Offer.Party.BUYER,
            buyer_amount=amount if from_buyer else None,
            seller_amount=list_price if from_buyer else amount,
            shipping_discount=shipping_discount,
            expires_at=now + settings.OFFER_LIFETIME,
            created_at=now,
            updated_at=now,
        )
        if record:
            record.offer = offer
            record.save(update_fields=["offer"])
        recipient_id = seller_id if from_buyer else buyer.pk
        events.record(
            DomainEvent.Name.OFFER_RECEIVED,
            **_offer_facts(offer),
            recipient_id=recipient_id,
            amount=str(amount),
            currency=currency,
            source=source,
        )
        notification_services.notify(
            recipient_ids=[recipient_id],
            kind=Kind.OFFER_RECEIVED if from_buyer else Kind.OFFER_TO_LIKERS,
            title=f"Offer: {amount} {currency}",
            body=f"On {_offer_subject(offer)}. It expires in 24 hours.",
            dedupe_key=f"offer:{offer.pk}:received",
            target=listing,
            data={"offerId": _gid(offer)},
        )
    return offer


def respond_to_offer(*, offer: Offer, actor, action: str, amount: Decimal | None = None) -> Offer:
    """The party whose turn it is accepts (which buys the item at the offer's amount and is
    binding), declines, or counters with an amount strictly between the two sides' latest figures
    (the other side's turn then, for a fresh OFFER_LIFETIME)."""
    party = _offer_party(offer, actor)
    if action == "accept":
        _accept_offer(offer, party)
    elif action == "decline":
        _decline_offer(offer, party)
    elif action == "counter":
        _counter_offer(offer, party, validated_money(amount, "amount") if amount is not None else None)
    else:
        raise ValueError(f"unknown offer action {action}")
    return Offer.objects.get(pk=offer.pk)


@transaction.atomic
def withdraw_offer(*, offer: Offer, actor) -> Offer:
    """Take back what you proposed, while the other side has not answered."""
    party = _offer_party(offer, actor)
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    _check_pending(offer)
    if offer.turn == party:
        raise ServiceError(
            CheckoutError.NOT_YOUR_TURN, "This offer waits for your answer: decline it instead.", "offerId"
        )
    offer.status, offer.updated_at = Offer.Status.WITHDRAWN, timezone.now()
    offer.save(update_fields=["status", "updated_at"])
    return offer


def expire_offers(*, now: datetime, batch: int = 500) -> int:
    """Mark expired the pending offers past their time (the periodic task; reads and acts check
    the time themselves, so an offer is expired on time even before this runs)."""
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                Offer.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Offer.Status.PENDING, expires_at__lte=now)
                .select_related("listing", "bundle")[:batch]
            )
            for offer in due:
                _expire(offer)
        expired += len(due)
        if len(due) < batch:
            return expired


@dataclass(frozen=True)
class _Acceptance:
    """An offer being accepted by `party`, settled inside the purchase's transaction."""

    offer: Offer
    party: str

    def claim(self) -> None:
        """Lock the offer and check it is still this party's to accept, at the amount quoted."""
        offer = Offer.objects.select_for_update().get(pk=self.offer.pk)
        _check_pending(offer)
        _check_turn(offer, self.party)
        if offer.amount != self.offer.amount:
            raise ServiceError(CheckoutError.PRICE_CHANGED, "The offer changed meanwhile.", "offerId")
        Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.ACCEPTED, updated_at=timezone.now())

    def settle(self, order: Order) -> None:
        Offer.objects.filter(pk=self.offer.pk).update(order=order)
        offer = self.offer
        events.record(
            DomainEvent.Name.OFFER_ACCEPTED,
            **_offer_facts(offer),
            order_id=order.pk,
            amount=str(offer.amount),
            currency=offer.currency,
        )
        # The seller hears "sold" from the order; a buyer accepting a counter needs no news.
        if self.party == Offer.Party.SELLER:
            notification_services.notify(
                recipient_ids=[offer.buyer_id],
                kind=Kind.OFFER_ACCEPTED,
                title="Your offer was accepted",
                body=f"{_offer_subject(offer)} is yours for {offer.amount} {offer.currency}.",
                dedupe_key=f"offer:{offer.pk}:accepted",
                target=offer.listing,
                data={"offerId": _gid(offer), "orderId": _gid(order)},
            )


def _accept_offer(offer: Offer, party: str) -> Order:
    # The key makes one order per offer, and a retried acceptance returns it.
    request = _keyed(offer.buyer, f"offer:{offer.pk}", "accept_offer", offer=offer.pk)

    def accept() -> Order:
        _check_pending(offer)
        _check_turn(offer, party)
        accepting = _Acceptance(offer=offer, party=party)
        if offer.listing_id:
            return _buy_listing(
                buyer=offer.buyer,
                listing=offer.listing,
                request=request,
                price=offer.amount,
                source=Order.Source.OFFER,
                accepting=accepting,
            )
        return _buy_bundle(bundle=offer.bundle, request=request, accepting=accepting)

    return _idempotent(request, accept)


@transaction.atomic
def _decline_offer(offer: Offer, party: str) -> None:
    offer = _lock_for_answer(offer, party)
    offer.status, offer.updated_at = Offer.Status.DECLINED, timezone.now()
    offer.save(update_fields=["status", "updated_at"])
    other = _other_party_id(offer, party)
    events.record(DomainEvent.Name.OFFER_DECLINED, **_offer_facts(offer), recipient_id=other)
    notification_services.notify(
        recipient_ids=[other],
        kind=Kind.OFFER_DECLINED,
        title="Your offer was declined",
        body=f"On {_offer_subject(offer)}.",
        dedupe_key=f"offer:{offer.pk}:declined",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


@transaction.atomic
def _counter_offer(offer: Offer, party: str, amount: Decimal | None) -> None:
    if amount is None:
        raise ServiceError(CommonError.REQUIRED, "A counter needs an amount.", "amount")
    offer = _lock_for_answer(offer, party)
    floor = _offer_floor(offer.list_price)
    if amount < floor or (offer.buyer_amount is not None and amount <= offer.buyer_amount):
        raise ServiceError(
            CheckoutError.OFFER_TOO_LOW, f"Counter above {offer.buyer_amount or floor} {offer.currency}.", "amount"
        )
    if amount >= offer.seller_amount:
        raise ServiceError(
            CheckoutError.OFFER_TOO_HIGH, f"Counter below {offer.seller_amount} {offer.currency}.", "amount"
        )
    now = timezone.now()
    setattr(offer, f"{party}_amount", amount)
    offer.turn = Offer.Party.BUYER if party == Offer.Party.SELLER else Offer.Party.SELLER
    offer.counter_count += 1
    offer.expires_at, offer.updated_at = now + settings.OFFER_LIFETIME, now
    offer.save(update_fields=[f"{party}_amount", "turn", "counter_count", "expires_at", "updated_at"])
    other = _other_party_id(offer, party)
    events.record(
        DomainEvent.Name.OFFER_COUNTERED,
        **_offer_facts(offer),
        recipient_id=other,
        amount=str(amount),
        currency=offer.currency,
    )
    notification_services.notify(
        recipient_ids=[other],
        kind=Kind.OFFER_COUNTERED,
        title=f"Counter offer: {amount} {offer.currency}",
        body=f"On {_offer_subject(offer)}. It expires in 24 hours.",
        dedupe_key=f"offer:{offer.pk}:counter:{offer.counter_count}",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


def _expire(offer: Offer) -> None:
    """Mark a locked, pending offer past its time expired, and tell its buyer."""
    offer.status = Offer.Status.EXPIRED
    offer.save(update_fields=["status"])
    events.record(DomainEvent.Name.OFFER_EXPIRED, **_offer_facts(offer))
    notification_services.notify(
        recipient_ids=[offer.buyer_id],
        kind=Kind.OFFER_EXPIRED,
        title="An offer expired",
        body=f"On {_offer_subject(offer)}.",
        dedupe_key=f"offer:{offer.pk}:expired",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


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


def _lock_for_answer(offer: Offer, party: str) -> Offer:
    offer = Offer.objects.select_for_update(of=("self",)).select_related("listing").get(pk=offer.pk)
    _check_pending(offer)
    _check_turn(offer, party)
    return offer


def _check_pending(offer: Offer) -> None:
    status = offer.status_at(timezone.now())
    if status != Offer.Status.PENDING:
        raise ServiceError(
            CheckoutError.OFFER_NOT_PENDING,
            f"This offer is {Offer.Status(status).label.lower()}; it cannot change.",
            "offerId",
        )


def _check_turn(offer: Offer, party: str) -> None:
    if offer.turn != party:
        raise ServiceError(CheckoutError.NOT_YOUR_TURN, "This offer waits for the other side's answer.", "offerId")


def _offer_party(offer: Offer, actor) -> str:
    if actor.pk == offer.buyer_id:
        return Offer.Party.BUYER
    if actor.pk == offer.seller_id:
        return Offer.Party.SELLER
    raise ServiceError(CommonError.NOT_FOUND, "This offer does not exist.", "offerId")


def _other_party_id(offer: Offer, party: str) -> int:
    return offer.seller_id if party == Offer.Party.BUYER else offer.buyer_id


def _offer_floor(list_price: Decimal) -> Decimal:
    return pricing.percent_of(list_price, settings.OFFER_MIN_PERCENT)


def _offer_facts(offer: Offer) -> dict:
    return {"offer_id": offer.pk, "buyer_id": offer.buyer_id, "seller_id": offer.seller_id}


def _offer_subject(offer: Offer) -> str:
    return offer.listing.title if offer.listing_id else "a bundle"


# Bundles ---------------------------------------------------------------------------------------

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
