"""Checkout: every way of buying (purchase, accepted offer, bundle, add-on; live buy-now and
auctions come through `purchase_listing`), the stock taken and the order written.

Locks: see the lock order below; it holds for every module of this package.
"""

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config.errors import CommonError, ServiceError
from marketplace import events, payments, pricing, selectors, tasks
from marketplace.errors import CheckoutError, ListingError
from marketplace.models import Bundle, DomainEvent, Listing, Order, OrderDiscount, OrderLine, Payment, ShippingAddress
from marketplace.services._shared import _close_pending_offers, _gid, _lock_member, validated_money
from marketplace.services.idempotency import _idempotent, _keyed, _Request
from marketplace.services.listings import _buyable, _check_buyable, _unavailable
from notifications import services as notification_services
from notifications.models import Kind

if TYPE_CHECKING:
    from marketplace.services.offers import _Acceptance

logger = logging.getLogger(__name__)


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
    payment_method: str | None = None,
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
        payment_method=payment_method,
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


def checkout_bundle(
    *,
    buyer,
    bundle: Bundle,
    idempotency_key: str,
    shipping_address_id: int | None = None,
    payment_method: str | None = None,
) -> Order:
    """Buy every item of the buyer's open bundle as one order: one parcel, one label fee, the
    seller's bundle discount. Idempotent on the key like purchase_listing."""
    request = _keyed(
        buyer,
        idempotency_key,
        "checkout_bundle",
        payment_method=payment_method,
        bundle=bundle.pk,
        shipping_address=shipping_address_id,
    )
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


def add_to_order(
    *, buyer, order: Order, listing: Listing, idempotency_key: str, payment_method: str | None = None
) -> Order:
    """Buy one more item from the same seller into an order's parcel, with no second label fee,
    while the add-on window is open (ORDER_ADD_ON_WINDOW after purchase, and before shipping).
    The item is charged at its price; the order's discounts stay as they were. Idempotent on the key."""
    request = _keyed(
        buyer, idempotency_key, "add_to_order", payment_method=payment_method, order=order.pk, listing=listing.pk
    )
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
        events.record(
            DomainEvent.Name.ORDER_ITEM_ADDED, **events.order_payload(current), listing_id=item.pk, charged=str(charged)
        )
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
        reference = provider.authorize(
            amount=amount,
            currency=currency,
            idempotency_key=request.payment_key,
            buyer=request.user,
            payment_method=request.payment_method,
        )
    except payments.PaymentDeclined as declined:
        raise ServiceError(CheckoutError.PAYMENT_DECLINED, str(declined)) from None
    except payments.PaymentActionRequired as required:
        raise ServiceError(
            CheckoutError.PAYMENT_ACTION_REQUIRED,
            "Confirm the payment with your bank, then try again.",
            client_secret=required.client_secret,
        ) from None
    except payments.PaymentUnavailable:
        raise ServiceError(
            CheckoutError.PAYMENT_UNAVAILABLE, "The payment could not be completed just now; try again."
        ) from None
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
    events.record(DomainEvent.Name.ORDER_PLACED, **events.order_payload(order), source=order.source)
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
