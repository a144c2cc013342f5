"""Reads of the marketplace: listings (visibility, cards, discovery) and checkout (orders, offers,
bundles, addresses, fees).

Visibility: removed listings are gone; drafts are their seller's only; available, reserved and
sold ones open for anyone but the users their seller blocked. Discovery (feed, search, "for you")
only ever shows available listings. Orders, offers and bundles are their buyer's and seller's
only; addresses their owner's.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from config.errors import ErrorCode, ServiceError
from marketplace import search
from accounts.models import User
from marketplace.models import (
    Bundle,
    BundleItem,
    Category,
    CurationTerms,
    Listing,
    ListingImage,
    ListingPriceChange,
    Offer,
    Order,
    OrderDiscount,
    OrderLine,
    SellerDiscounts,
    ShippingAddress,
    ShippingRate,
)
from marketplace.pricing import Basket, SellerTerms, Totals, price
from social import selectors as social_selectors
from social.models import Follow, Like, Share

NEWEST = ("-listed_at", "-pk")
# Chronological and price orders page by keyset; ranked ones (relevance, for you) by offset.
KEYSET_SORTS = {"newest": NEWEST, "price_low": ("price", "pk"), "price_high": ("-price", "-pk")}
RECENT_DROP = timedelta(days=7)


def listing_cards(listings, viewer):
    """What a listing shows, in fixed queries: category, seller with follow stats, images, likes,
    and the first-sale shipping banner of a seller with no sale yet."""
    from sellers.selectors import first_sale_shipping_banner  # sellers builds on marketplace: imported on use

    return listings.select_related("category__parent").prefetch_related(
        Prefetch("seller", queryset=social_selectors.users_for(viewer)),
        Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk")),
    ).annotate(viewer_has_liked=social_selectors.viewer_has_liked(viewer),
               first_sale_shipping_discount=first_sale_shipping_banner(timezone.now()))


def visible_listings(viewer):
    """Listings `viewer` (None when anonymous) may open."""
    visible = Q(status__in=[Listing.Status.AVAILABLE, Listing.Status.RESERVED, Listing.Status.SOLD])
    if viewer is None:
        return Listing.objects.filter(visible)
    return Listing.objects.filter(visible | Q(status=Listing.Status.DRAFT, seller_id=viewer.pk)).exclude(
        seller_id__in=social_selectors.blockers_of(viewer))


def discoverable_listings(viewer):
    return visible_listings(viewer).filter(status=Listing.Status.AVAILABLE)


def get_listing(viewer, listing_id: int, field: str = "listingId") -> Listing:
    """A listing card `viewer` may open, or NOT_FOUND (whether it does not exist or is hidden)."""
    return _one_visible(listing_cards(visible_listings(viewer), viewer), listing_id, field)


def get_visible_listing(viewer, listing_id: int, field: str = "listingId") -> Listing:
    """The listing itself, not its card (one query, none of the card's prefetches): for a write
    that only needs to know that `viewer` may open it. NOT_FOUND as get_listing."""
    return _one_visible(visible_listings(viewer), listing_id, field)


def _one_visible(listings, listing_id: int, field: str) -> Listing:
    listing = listings.filter(pk=listing_id).first()
    if listing is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This listing does not exist or is no longer listed.", field)
    return listing


def browse(viewer, *, search: str | None = None, sort: str | None = None, seller_id: int | None = None,
           available_only: bool = True, **filters):
    """The `listings` query: (listing cards, keyset ordering), the ordering None when ranked.

    `sort` is "newest" (the default without a search), "relevance" (the default with one),
    "for_you", "price_low" or "price_high". Sold listings are listed only within a closet (`seller_id`).
    """
    search = (search or "").strip()
    sort = sort or ("relevance" if search else "newest")
    if sort == "relevance" and not search:
        raise ServiceError(ErrorCode.INVALID, "Sorting by relevance needs a search.", "sort")
    if seller_id is not None:
        listings = closet(viewer, seller_id, available_only=available_only)
    elif available_only:
        listings = discoverable_listings(viewer)
    else:
        raise ServiceError(ErrorCode.INVALID, "Sold listings are shown only within a closet (sellerId).",
                           "availableOnly")
    listings = listing_cards(filtered(listings, **filters), viewer)
    if search:
        listings = searched(listings, search)
    if sort == "for_you":
        return for_you(listings, viewer), None
    return listings, KEYSET_SORTS.get(sort)


def closet(viewer, seller_id: int, *, available_only: bool):
    """A seller's closet: available listings, plus sold ones (and drafts for the seller themself)."""
    listings = visible_listings(viewer).filter(seller_id=seller_id)
    return listings.filter(status=Listing.Status.AVAILABLE) if available_only else listings


def filtered(listings, *, category_id=None, brand=None, size=None, colour=None, conditions=None, min_price=None,
             max_price=None, currency=None):
    """The discovery filters; a category includes its whole subtree."""
    if category_id is not None:
        category = Category.objects.filter(pk=category_id).first()
        if category is None:
            raise ServiceError(ErrorCode.NOT_FOUND, "This category does not exist.", "categoryId")
        listings = listings.filter(Q(category_id=category.pk) | Q(category__path__startswith=f"{category.path}/"))
    if brand:
        listings = listings.filter(brand__iexact=brand.strip())
    if size:
        listings = listings.filter(size__iexact=size.strip())
    if colour:
        listings = listings.filter(colour__iexact=colour.strip())
    if conditions:
        listings = listings.filter(condition__in=conditions)
    if min_price is not None or max_price is not None:
        listings = listings.filter(currency=currency)
        if min_price is not None:
            listings = listings.filter(price__gte=min_price)
        if max_price is not None:
            listings = listings.filter(price__lte=max_price)
    return listings


def searched(listings, text: str):
    """Listings matching `text`, best first; paginate by offset."""
    return search.matching(listings, text).order_by("-search_rank", *NEWEST)


def for_you(listings, viewer):
    """Listings ordered for `viewer`, best first; paginate by offset.

    score = 3 if the seller is followed
          + 2 if the category is one of a listing the viewer liked
          + 2 if the brand is one the viewer liked, + 1 for a liked size
          + 2 if the price dropped in the last 7 days
          + recency: 3 within a day, 2 within a week, 1 within a month
    then newest first. Plain integer SQL over indexed subqueries: no model, no per-row work in
    Python; anonymous viewers get recency and price drops only. Own listings are left out.
    """
    now = timezone.now()
    score = (_points(Q(listed_at__gte=now - timedelta(days=1)), 3)
             + _points(Q(listed_at__gte=now - timedelta(days=7), listed_at__lt=now - timedelta(days=1)), 2)
             + _points(Q(listed_at__gte=now - timedelta(days=30), listed_at__lt=now - timedelta(days=7)), 1)
             + _points(Exists(ListingPriceChange.objects.filter(
                 listing_id=OuterRef("pk"), new_price__lt=F("old_price"), changed_at__gte=now - RECENT_DROP)), 2))
    if viewer is not None:
        liked = Like.objects.filter(user_id=viewer.pk)
        score += (_points(Q(seller_id__in=Follow.objects.filter(follower_id=viewer.pk).values("followee_id")), 3)
                  + _points(Q(category_id__in=liked.values("listing__category_id")), 2)
                  + _points(Q(brand__in=liked.exclude(listing__brand="").values("listing__brand")), 2)
                  + _points(Q(size__in=liked.exclude(listing__size="").values("listing__size")), 1))
        listings = listings.exclude(seller_id=viewer.pk)
    return listings.annotate(score=score).order_by("-score", *NEWEST)


def feed(viewer):
    """Listings of followed closets and listings they shared, deduplicated, each at its newest
    event (listed by a followed seller, or its latest share by someone followed); paginate by
    keyset on ("-feed_at", "-pk")."""
    followed = Follow.objects.filter(follower_id=viewer.pk).values("followee_id")
    shares = Share.objects.filter(sharer_id__in=followed)
    latest_share = shares.filter(listing_id=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    return (
        discoverable_listings(viewer)
        .exclude(seller_id=viewer.pk)
        .filter(Q(seller_id__in=followed) | Q(pk__in=shares.values("listing_id")))
        .annotate(shared_at=Subquery(latest_share))
        .annotate(feed_at=Case(
            When(seller_id__in=followed, then=Greatest("listed_at", Coalesce("shared_at", "listed_at"))),
            default=F("shared_at"), output_field=DateTimeField()))
    )


def liked_by(viewer):
    """The viewer's likes (sold ones too: it is a wish list), newest like first; keyset on
    ("-liked_at", "-pk")."""
    return visible_listings(viewer).filter(likes__user_id=viewer.pk).annotate(liked_at=F("likes__created_at"))


def categories():
    return Category.objects.select_related("parent")


def _points(condition, points: int):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


# Checkout --------------------------------------------------------------------------------------


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
    return SellerTerms(bundle_percent=discounts.bundle_percent, bundle_min_items=discounts.bundle_min_items,
                       shipping_percent=discounts.shipping_percent)


def addresses_of(user):
    """A member's saved addresses, the default first, then the newest."""
    return ShippingAddress.objects.filter(user_id=user.pk).order_by("-is_default", "-created_at", "-pk")


def get_address(user, address_id: int, field: str = "shippingAddressId") -> ShippingAddress:
    address = addresses_of(user).filter(pk=address_id).first()
    if address is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This address is not one of yours.", field)
    return address


def _parties(viewer):
    """Buyers and sellers as orders and offers show them (deactivated ones too: history stays whole)."""
    return social_selectors.with_follow_stats(User.objects.all(), viewer)


def order_cards(orders, viewer):
    """What an order shows, in fixed queries: both parties, lines with their listing cards, discounts."""
    return orders.prefetch_related(
        Prefetch("buyer", queryset=_parties(viewer)),
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk").prefetch_related(
            Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer)))),
        Prefetch("discounts", queryset=OrderDiscount.objects.order_by("pk")),
    )


def orders_of(viewer, *, as_seller: bool, status: str | None = None):
    """The viewer's purchases (or sales), newest first: keyset on ("-placed_at", "-pk")."""
    orders = Order.objects.filter(**{"seller_id" if as_seller else "buyer_id": viewer.pk})
    if status:
        orders = orders.filter(status=status)
    return order_cards(orders, viewer)


def visible_orders(viewer):
    """An order is its buyer's and its seller's business only."""
    if viewer is None:
        return Order.objects.none()
    return Order.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def get_order(viewer, order_id: int, field: str = "orderId") -> Order:
    order = order_cards(visible_orders(viewer), viewer).filter(pk=order_id).first()
    if order is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This order does not exist.", field)
    return order


def visible_offers(viewer):
    if viewer is None:
        return Offer.objects.none()
    return Offer.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def offer_cards(offers, viewer):
    """What an offer shows, in fixed queries: both parties, its listing card or its bundle's items."""
    return offers.prefetch_related(
        Prefetch("buyer", queryset=_parties(viewer)),
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer)),
        Prefetch("bundle", queryset=bundle_cards(Bundle.objects.all(), viewer)),
        Prefetch("order", queryset=order_cards(Order.objects.all(), viewer)),
    )


def offers_of(viewer, *, as_seller: bool, pending_only: bool = False):
    """Offers the viewer made (or received), most recently active first: keyset on ("-updated_at", "-pk")."""
    offers = Offer.objects.filter(**{"seller_id" if as_seller else "buyer_id": viewer.pk})
    if pending_only:
        offers = offers.filter(status=Offer.Status.PENDING, expires_at__gt=timezone.now())
    return offer_cards(offers, viewer)


def get_offer(viewer, offer_id: int, field: str = "offerId") -> Offer:
    offer = offer_cards(visible_offers(viewer), viewer).filter(pk=offer_id).first()
    if offer is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This offer does not exist.", field)
    return offer


def bundle_cards(bundles, viewer):
    """Bundles with their items' listing cards and their pending offers."""
    return bundles.prefetch_related(
        Prefetch("seller", queryset=_parties(viewer)),
        Prefetch("items", queryset=BundleItem.objects.order_by("added_at", "pk").prefetch_related(
            Prefetch("listing", queryset=listing_cards(visible_listings(viewer), viewer)))),
        Prefetch("offers", queryset=Offer.objects.filter(status=Offer.Status.PENDING, expires_at__gt=timezone.now()),
                 to_attr="pending_offers"),
    )


def visible_bundles(viewer):
    if viewer is None:
        return Bundle.objects.none()
    return Bundle.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def open_bundle(viewer, seller_id: int) -> Bundle | None:
    """The viewer's bundle from this seller's closet being put together, if any."""
    return bundle_cards(Bundle.objects.filter(buyer_id=viewer.pk, seller_id=seller_id, status=Bundle.Status.OPEN),
                        viewer).first()


def get_bundle(viewer, bundle_id: int, field: str = "bundleId") -> Bundle:
    bundle = bundle_cards(visible_bundles(viewer), viewer).filter(pk=bundle_id).first()
    if bundle is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This bundle does not exist.", field)
    return bundle


def bundle_quote(bundle: Bundle) -> tuple[Totals, str] | None:
    """What checking out a bundle of `bundle_cards` would cost now, and in what currency (None while
    it is empty)."""
    listings = [item.listing for item in bundle.items.all() if item.listing is not None]
    if not listings:
        return None
    currency = listings[0].currency
    totals = price(Basket(seller_id=bundle.seller_id, buyer_id=bundle.buyer_id, currency=currency,
                          item_prices=tuple(listing.price for listing in listings), shipping_fee=label_fee(currency),
                          seller_terms=seller_terms(bundle.seller_id), bundled=True))
    return totals, currency
