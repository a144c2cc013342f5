"""Discovery: what a member finds (search and browse, "for you", the feed of followed closets,
their likes), ranked from the marketplace's listings and the social graph.

It sits above both (CONTRIBUTING: layers): ranking reads follows and likes, which the marketplace
must not know of. Every list is of listing cards (marketplace.selectors.listing_cards) and only
ever shows what its viewer may open.
"""

from datetime import timedelta

from django.db.models import Case, DateTimeField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace import search
from marketplace.models import Category, Listing, ListingPriceChange
from marketplace.selectors import discoverable_listings, listing_cards, visible_listings
from social.models import Follow, Like, Share

NEWEST = ("-listed_at", "-pk")
# Chronological and price orders page by keyset; ranked ones (relevance, for you) by offset.
KEYSET_SORTS = {"newest": NEWEST, "price_low": ("price", "pk"), "price_high": ("-price", "-pk")}
RECENT_DROP = timedelta(days=7)


def browse(
    viewer: User | None,
    *,
    search: str | None = None,
    sort: str | None = None,
    seller_id: int | None = None,
    available_only: bool = True,
    **filters,
) -> QuerySet[Listing]:
    """The `listings` query: (listing cards, keyset ordering), the ordering None when ranked.

    `sort` is "newest" (the default without a search), "relevance" (the default with one),
    "for_you", "price_low" or "price_high". Sold listings are listed only within a closet (`seller_id`).
    """
    search = (search or "").strip()
    sort = sort or ("relevance" if search else "newest")
    if sort == "relevance" and not search:
        raise ServiceError(CommonError.INVALID, "Sorting by relevance needs a search.", "sort")
    if seller_id is not None:
        listings = closet(viewer, seller_id, available_only=available_only)
    elif available_only:
        listings = discoverable_listings(viewer)
    else:
        raise ServiceError(
            CommonError.INVALID, "Sold listings are shown only within a closet (sellerId).", "availableOnly"
        )
    listings = listing_cards(filtered(listings, **filters), viewer)
    if search:
        listings = searched(listings, search)
    if sort == "for_you":
        return for_you(listings, viewer), None
    return listings, KEYSET_SORTS.get(sort)


def closet(viewer: User | None, seller_id: int, *, available_only: bool) -> QuerySet[Listing]:
    """A seller's closet: available listings, plus sold ones (and drafts for the seller themself)."""
    listings = visible_listings(viewer).filter(seller_id=seller_id)
    return listings.filter(status=Listing.Status.AVAILABLE) if available_only else listings


def filtered(
    listings: QuerySet[Listing],
    *,
    category_id=None,
    brand=None,
    size=None,
    colour=None,
    conditions=None,
    min_price=None,
    max_price=None,
    currency=None,
) -> QuerySet[Listing]:
    """The discovery filters; a category includes its whole subtree."""
    if category_id is not None:
        category = Category.objects.filter(pk=category_id).first()
        if category is None:
            raise ServiceError(CommonError.NOT_FOUND, "This category does not exist.", "categoryId")
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


def searched(listings: QuerySet[Listing], text: str) -> QuerySet[Listing]:
    """Listings matching `text`, best first; paginate by offset."""
    return search.matching(listings, text).order_by("-search_rank", *NEWEST)


def for_you(listings: QuerySet[Listing], viewer: User | None) -> QuerySet[Listing]:
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
    score = (
        _points(Q(listed_at__gte=now - timedelta(days=1)), 3)
        + _points(Q(listed_at__gte=now - timedelta(days=7), listed_at__lt=now - timedelta(days=1)), 2)
        + _points(Q(listed_at__gte=now - timedelta(days=30), listed_at__lt=now - timedelta(days=7)), 1)
        + _points(
            Exists(
                ListingPriceChange.objects.filter(
                    listing_id=OuterRef("pk"), new_price__lt=F("old_price"), changed_at__gte=now - RECENT_DROP
                )
            ),
            2,
        )
    )
    if viewer is not None:
        liked = Like.objects.filter(user_id=viewer.pk)
        score += (
            _points(Q(seller_id__in=Follow.objects.filter(follower_id=viewer.pk).values("followee_id")), 3)
            + _points(Q(category_id__in=liked.values("listing__category_id")), 2)
            + _points(Q(brand__in=liked.exclude(listing__brand="").values("listing__brand")), 2)
            + _points(Q(size__in=liked.exclude(listing__size="").values("listing__size")), 1)
        )
        listings = listings.exclude(seller_id=viewer.pk)
    return listings.annotate(score=score).order_by("-score", *NEWEST)


def feed(viewer: User) -> QuerySet[Listing]:
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
        .annotate(
            feed_at=Case(
                When(seller_id__in=followed, then=Greatest("listed_at", Coalesce("shared_at", "listed_at"))),
                default=F("shared_at"),
                output_field=DateTimeField(),
            )
        )
    )


def liked_by(viewer: User) -> QuerySet[Listing]:
    """The viewer's likes (sold ones too: it is a wish list), newest like first; keyset on
    ("-liked_at", "-pk")."""
    return visible_listings(viewer).filter(likes__user_id=viewer.pk).annotate(liked_at=F("likes__created_at"))


def _points(condition, points: int):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


# Checkout --------------------------------------------------------------------------------------
