"""Reads of the marketplace: listings (visibility, cards, discovery) and checkout (orders, offers,
bundles, addresses, fees).

Visibility: removed listings are gone; drafts are their seller's only; available, reserved and
sold ones open for anyone but those the apps above hide them from (hooks.HIDDEN_SELLERS: blocks).
Discovery (discovery.selectors: feed, search, "for you") only ever shows available listings.
Orders, offers and bundles are their buyer's and seller's only; addresses their owner's.
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace import hooks
from marketplace.models import (
    Bundle,
    BundleItem,
    Category,
    CurationTerms,
    Listing,
    ListingImage,
    Offer,
    Order,
    OrderDiscount,
    OrderLine,
    SellerDiscounts,
    ShippingAddress,
    ShippingRate,
)
from marketplace.pricing import Basket, SellerTerms, Totals, price


def listing_cards(listings: QuerySet[Listing], viewer: User | None) -> QuerySet[Listing]:
    """What a listing shows, in fixed queries: category, seller as members show, images, and what
    the apps above add to every card (hooks.LISTING_CARD_ANNOTATIONS)."""
    return (
        listings.select_related("category__parent")
        .prefetch_related(
            Prefetch("seller", queryset=hooks.members_as_shown(User.objects.filter(is_active=True), viewer)),
            Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk")),
        )
        .annotate(**hooks.card_annotations(viewer, timezone.now()))
    )


def visible_listings(viewer: User | None) -> QuerySet[Listing]:
    """Listings `viewer` (None when anonymous) may open."""
    visible = Q(status__in=[Listing.Status.AVAILABLE, Listing.Status.RESERVED, Listing.Status.SOLD])
    if viewer is None:
        return Listing.objects.filter(visible)
    listings = Listing.objects.filter(visible | Q(status=Listing.Status.DRAFT, seller_id=viewer.pk))
    for hidden in hooks.hidden_seller_ids(viewer):
        listings = listings.exclude(seller_id__in=hidden)
    return listings


def discoverable_listings(viewer: User | None) -> QuerySet[Listing]:
    return visible_listings(viewer).filter(status=Listing.Status.AVAILABLE)


def get_listing(viewer: User | None, listing_id: int, field: str = "listingId") -> Listing:
    """A listing card `viewer` may open, or NOT_FOUND (whether it does not exist or is hidden)."""
    return _one_visible(listing_cards(visible_listings(viewer), viewer), listing_id, field)


def get_visible_listing(viewer: User | None, listing_id: int, field: str = "listingId") -> Listing:
    """The listing itself, not its card (one query, none of the card's prefetches): for a write
    that only needs to know that `viewer` may open it. NOT_FOUND as get_listing."""
    return _one_visible(visible_listings(viewer), listing_id, field)


def _one_visible(listings: QuerySet[Listing], listing_id: int, field: str) -> Listing:
    listing = listings.filter(pk=listing_id).first()
    if listing is None:
        raise ServiceError(CommonError.NOT_FOUND, "This listing does not exist or is no longer listed.", field)
    return listing


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def label_fee(currency: str) -> Decimal:
    """The flat label fee of a parcel paid in `currency`: staff's rate, else SHIPPING_LABEL_FEE."""
    fee = ShippingRate.objects.filter(currency=currency).values_list("label_fee", flat=True).first()
    return settings.SHIPPING_LABEL_FEE if fee is None else fee


def curation_terms(seller_id: int) -> CurationTerms:
    """The member's curation terms, the defaults (unsaved) if they never set any."""
    return CurationTerms.objects.filter(seller_id=seller_id).first() or CurationTerms(seller_id=seller_id)


def seller_terms(seller_id: int) -> SellerTerms:
    discounts = SellerDiscounts.objects.filter(seller_id=seller_id).first()
    if discounts is None:
        return SellerTerms()
    return SellerTerms(
        bundle_percent=discounts.bundle_percent,
        bundle_min_items=discounts.bundle_min_items,
        shipping_percent=discounts.shipping_percent,
    )


def addresses_of(user: User) -> QuerySet[ShippingAddress]:
    """A member's saved addresses, the default first, then the newest."""
    return ShippingAddress.objects.filter(user_id=user.pk).order_by("-is_default", "-created_at", "-pk")


def get_address(user: User, address_id: int, field: str = "shippingAddressId") -> ShippingAddress:
    address = addresses_of(user).filter(pk=address_id).first()
    if address is None:
        raise ServiceError(CommonError.NOT_FOUND, "This address is not one of yours.", field)
    return address


def _parties(viewer: User) -> QuerySet[User]:
    """Buyers and sellers as orders and offers show them (deactivated ones too: history stays whole)."""
    return hooks.members_as_shown(User.objects.all(), viewer)


def order_cards(orders: QuerySet[Order], viewer: User) -> QuerySet[Order]:
    """What an order shows, in fixed queries: both parties, lines with their listing cards, discounts,
    and what the apps above add to every order (hooks.ORDER_CARD_PREFETCHES)."""
    return orders.prefetch_related(
        Prefetch("buyer", queryset=_parties(viewer)),
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch(
            "lines",
            queryset=OrderLine.objects.order_by("pk").prefetch_related(
                Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer))
            ),
        ),
        Prefetch("discounts", queryset=OrderDiscount.objects.order_by("pk")),
        *hooks.order_card_prefetches(viewer),
    )


def orders_of(viewer: User, *, as_seller: bool, status: str | None = None) -> QuerySet[Order]:
    """The viewer's purchases (or sales), newest first: keyset on ("-placed_at", "-pk")."""
    orders = Order.objects.filter(**{"seller_id" if as_seller else "buyer_id": viewer.pk})
    if status:
        orders = orders.filter(status=status)
    return order_cards(orders, viewer)


def visible_orders(viewer: User) -> QuerySet[Order]:
    """An order is its buyer's and its seller's business only."""
    if viewer is None:
        return Order.objects.none()
    return Order.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def get_order(viewer: User, order_id: int, field: str = "orderId") -> Order:
    order = order_cards(visible_orders(viewer), viewer).filter(pk=order_id).first()
    if order is None:
        raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", field)
    return order


def visible_offers(viewer: User) -> QuerySet[Offer]:
    if viewer is None:
        return Offer.objects.none()
    return Offer.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def offer_cards(offers: QuerySet[Offer], viewer: User) -> QuerySet[Offer]:
    """What an offer shows, in fixed queries: both parties, its listing card or its bundle's items."""
    return offers.prefetch_related(
        Prefetch("buyer", queryset=_parties(viewer)),
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer)),
        Prefetch("bundle", queryset=bundle_cards(Bundle.objects.all(), viewer)),
        Prefetch("order", queryset=order_cards(Order.objects.all(), viewer)),
    )


def offers_of(viewer: User, *, as_seller: bool, pending_only: bool = False) -> QuerySet[Offer]:
    """Offers the viewer made (or received), most recently active first: keyset on ("-updated_at", "-pk")."""
    offers = Offer.objects.filter(**{"seller_id" if as_seller else "buyer_id": viewer.pk})
    if pending_only:
        offers = offers.filter(status=Offer.Status.PENDING, expires_at__gt=timezone.now())
    return offer_cards(offers, viewer)


def get_offer(viewer: User, offer_id: int, field: str = "offerId") -> Offer:
    offer = offer_cards(visible_offers(viewer), viewer).filter(pk=offer_id).first()
    if offer is None:
        raise ServiceError(CommonError.NOT_FOUND, "This offer does not exist.", field)
    return offer


def bundle_cards(bundles: QuerySet[Bundle], viewer: User) -> QuerySet[Bundle]:
    """Bundles with their items' listing cards and their pending offers."""
    return bundles.prefetch_related(
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch(
            "items",
            queryset=BundleItem.objects.order_by("added_at", "pk").prefetch_related(
                Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer))
            ),
        ),
        Prefetch(
            "offers",
            queryset=Offer.objects.filter(status=Offer.Status.PENDING, expires_at__gt=timezone.now()),
            to_attr="pending_offers",
        ),
    )


def visible_bundles(viewer: User) -> QuerySet[Bundle]:
    if viewer is None:
        return Bundle.objects.none()
    return Bundle.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def open_bundle(viewer: User, seller_id: int) -> Bundle | None:
    """The viewer's bundle from this seller's closet being put together, if any."""
    return bundle_cards(
        Bundle.objects.filter(buyer_id=viewer.pk, seller_id=seller_id, status=Bundle.Status.OPEN), viewer
    ).first()


def get_bundle(viewer: User, bundle_id: int, field: str = "bundleId") -> Bundle:
    bundle = bundle_cards(visible_bundles(viewer), viewer).filter(pk=bundle_id).first()
    if bundle is None:
        raise ServiceError(CommonError.NOT_FOUND, "This bundle does not exist.", field)
    return bundle


def bundle_quote(bundle: Bundle) -> tuple[Totals, str] | None:
    """What checking out a bundle of `bundle_cards` would cost now, and in what currency (None while
    it is empty)."""
    listings = [item.listing for item in bundle.items.all() if item.listing is not None]
    if not listings:
        return None
    currency = listings[0].currency
    totals = price(
        Basket(
            seller_id=bundle.seller_id,
            buyer_id=bundle.buyer_id,
            currency=currency,
            item_prices=tuple(listing.price for listing in listings),
            shipping_fee=label_fee(currency),
            seller_terms=seller_terms(bundle.seller_id),
            bundled=True,
        )
    )
    return totals, currency
