"""Reads of the seller tools: whom they reach, what to suggest, and what the seller sees of the results."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from accounts.models import User
from marketplace import selectors as marketplace_selectors
from marketplace.models import Listing, Offer, Order, OrderLine
from sellers.models import (
    AutoGreeting,
    Greeting,
    GreetingOptOut,
    GreetingTemplate,
    LastGreeting,
    OfferToLikers,
    PriceDropNotice,
    SellerToolSettings,
    Upsell,
)
from sellers.selectors.expressions import points_if
from social.models import Block, ClosetVisit, Like, Message
from social.selectors import messages_shown_to, users_for

# How far back the seller's list of closet visitors goes.
VISITOR_HISTORY = timedelta(days=30)


def reachable_likers(listing: Listing) -> list[int]:
    """Ids of the listing's current likers the seller may reach (price drops, offers): active
    members, not the seller, nobody who bought it, nobody blocked either way; in id order."""
    seller_id = listing.seller_id
    return list(
        Like.objects.filter(listing_id=listing.pk, user__is_active=True)
        .exclude(user_id=seller_id)
        .exclude(user_id__in=OrderLine.objects.filter(listing_id=listing.pk, active=True).values("order__buyer_id"))
        .exclude(user_id__in=Block.objects.filter(blocker_id=seller_id).values("blocked_id"))
        .exclude(user_id__in=Block.objects.filter(blocked_id=seller_id).values("blocker_id"))
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def open_price_drop_window(listing_id: int, *, since: datetime) -> PriceDropNotice | None:
    """The latest notice of the listing that sent its own notification since then, if any: a drop
    now joins its window (rewrites that notification)."""
    return (
        PriceDropNotice.objects.filter(listing_id=listing_id, window_start__isnull=True, created_at__gte=since)
        .order_by("-created_at", "-pk")
        .first()
    )


def price_drops(listing: Listing) -> QuerySet[PriceDropNotice]:
    """The listing's price-drop notices, newest first: order by ("-created_at", "-pk")."""
    return PriceDropNotice.objects.filter(listing_id=listing.pk)


def greeting_templates(seller: User) -> QuerySet[GreetingTemplate]:
    return GreetingTemplate.objects.filter(seller_id=seller.pk).order_by("name", "pk")


def auto_greeting_of(seller: User) -> AutoGreeting | None:
    return AutoGreeting.objects.filter(seller_id=seller.pk).select_related("template").first()


def greetings_enabled(user: User) -> bool:
    return not GreetingOptOut.objects.filter(user_id=user.pk).exists()


def closet_visitors(seller: User, *, now: datetime) -> QuerySet[User]:
    """Who visited the seller's closet in the last VISITOR_HISTORY, each once with their
    `last_visited_at`, `last_greeted_at` (by this seller, ever) and `can_greet` (a recent enough
    visit, no greeting within the period; opt-outs stay private until a greeting is tried);
    newest visit first: order by ("-last_visited_at", "-pk")."""
    policy = SellerToolSettings.current()
    visits = ClosetVisit.objects.filter(closet_owner_id=seller.pk)
    last_visit = visits.filter(visitor_id=OuterRef("pk")).order_by("-visited_at").values("visited_at")[:1]
    last_greeting = LastGreeting.objects.filter(seller_id=seller.pk, visitor_id=OuterRef("pk")).values("greeted_at")
    return (
        users_for(seller)
        .filter(pk__in=visits.filter(visited_at__gte=now - VISITOR_HISTORY).values("visitor_id"))
        .annotate(last_visited_at=Subquery(last_visit), last_greeted_at=Subquery(last_greeting[:1]))
        .annotate(
            can_greet=Case(
                When(
                    Q(last_visited_at__gte=now - policy.greeting_visit_window)
                    & (Q(last_greeted_at__isnull=True) | Q(last_greeted_at__lte=now - policy.greeting_period)),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def greetings_sent(seller: User) -> QuerySet[Greeting]:
    """The seller's greetings with their `replied` and `converted` (see _replied, _converted),
    newest first: order by ("-created_at", "-pk")."""
    return (
        Greeting.objects.filter(seller_id=seller.pk)
        .annotate(replied=_GREETING_REPLIED, converted=_GREETING_CONVERTED)
        .prefetch_related(
            Prefetch("visitor", queryset=users_for(seller)), Prefetch("message", queryset=messages_shown_to(seller))
        )
    )


def upsells_sent(seller: User) -> QuerySet[Upsell]:
    """The seller's upsells with their `replied` and `converted`, newest first: order by
    ("-created_at", "-pk")."""
    orders = marketplace_selectors.order_cards(Order.objects.all(), seller)
    return (
        Upsell.objects.filter(order__seller_id=seller.pk)
        .annotate(replied=_UPSELL_REPLIED, converted=_UPSELL_CONVERTED)
        .prefetch_related(Prefetch("order", queryset=orders), Prefetch("message", queryset=messages_shown_to(seller)))
    )


def offers_to_likers(listing: Listing, *, now: datetime):
    """A listing's offers to likers with the `sent`, `accepted` and `expired` counts of their
    offers, newest first: order by ("-created_at", "-pk")."""
    return OfferToLikers.objects.filter(listing_id=listing.pk).annotate(**offer_counts(now))


def results(seller: User, *, since: datetime, now: datetime) -> dict:
    """How the seller's tools did since then, as counts: greetings and upsells (sent, replied,
    converted), offers to likers (sent, accepted, expired). Three queries."""
    greetings = Greeting.objects.filter(seller_id=seller.pk, created_at__gte=since).aggregate(
        sent=Count("pk"),
        replied=Count("pk", filter=_GREETING_REPLIED),
        converted=Count("pk", filter=_GREETING_CONVERTED),
    )
    upsells = Upsell.objects.filter(order__seller_id=seller.pk, created_at__gte=since).aggregate(
        sent=Count("pk"), replied=Count("pk", filter=_UPSELL_REPLIED), converted=Count("pk", filter=_UPSELL_CONVERTED)
    )
    offers = Offer.objects.filter(
        seller_id=seller.pk, source=Offer.Source.OFFER_TO_LIKERS, created_at__gte=since
    ).aggregate(**_offer_counts("", now))
    return {"greetings": greetings, "upsells": upsells, "offers_to_likers": offers}


def last_offers_to_likers(listing: Listing, liker_ids: list[int], *, since: datetime) -> dict[int, Decimal]:
    """The seller's latest figure in the last offer each of these likers got on the listing since then."""
    offers = (
        Offer.objects.filter(
            listing_id=listing.pk, source=Offer.Source.OFFER_TO_LIKERS, buyer_id__in=liker_ids, created_at__gte=since
        )
        .order_by("buyer_id", "-created_at", "-pk")
        .values_list("buyer_id", "seller_amount")
    )
    latest = {}
    for buyer_id, amount in offers:
        latest.setdefault(buyer_id, amount)
    return latest


# Categories whose items go with a bought one, by slug under the same department (women/dresses goes
# with women/shoes...). Kept by hand for the category tree; a slug missing here pairs with nothing.
COMPLEMENTS = {
    "dresses": ("shoes", "bags", "accessories", "coats-jackets"),
    "tops": ("jeans", "shoes", "bags", "accessories", "coats-jackets"),
    "shirts": ("jeans", "shoes", "accessories", "coats-jackets"),
    "jeans": ("tops", "shirts", "shoes", "accessories", "coats-jackets"),
    "coats-jackets": ("tops", "shirts", "jeans", "shoes", "accessories"),
    "shoes": ("dresses", "jeans", "bags", "accessories"),
    "bags": ("dresses", "tops", "shoes", "accessories"),
    "accessories": ("dresses", "tops", "shirts", "bags", "coats-jackets"),
    "decor": ("bedding",),
    "bedding": ("decor",),
}
UPSELL_SUGGESTIONS = 20
CO_LIKES_COUNTED = 5


def upsell_suggestions(order: Order, viewer: User) -> QuerySet[Listing]:
    """Available items of the order's closet to suggest to its buyer, best first (listing cards).

    score = 4 if the buyer liked the item themself
          + 3 if its category goes with the category of an item in the order (COMPLEMENTS: a dress
            with shoes, a bag, accessories or a coat), within the same department
          + 1 per other member who liked both it and an item of the order (co-likes), up to 5
    then newest first; items already in the order are left out. Two queries (the order's
    categories, then the ranked items) plus the listing cards' fixed prefetches.
    """
    bought = Listing.objects.filter(order_lines__order_id=order.pk, order_lines__active=True)
    paths = set(bought.values_list("category__path", flat=True))
    complements = {
        f"{department}/{slug}"
        for department, _, category in (path.partition("/") for path in paths)
        for slug in COMPLEMENTS.get(category, ())
    }
    co_likers = Like.objects.filter(listing__in=bought.values("pk")).exclude(user_id=order.buyer_id).values("user_id")
    co_likes = (
        Like.objects.filter(listing_id=OuterRef("pk"), user_id__in=co_likers)
        .order_by()
        .values("listing_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    score = (
        points_if(Exists(Like.objects.filter(listing_id=OuterRef("pk"), user_id=order.buyer_id)), 4)
        + points_if(Q(category__path__in=complements), 3)
        + Least(Coalesce(Subquery(co_likes, output_field=IntegerField()), 0), CO_LIKES_COUNTED)
    )
    candidates = Listing.objects.filter(seller_id=order.seller_id, status=Listing.Status.AVAILABLE).exclude(
        pk__in=bought.values("pk")
    )
    return (
        marketplace_selectors.listing_cards(candidates, viewer)
        .annotate(score=score)
        .order_by("-score", "-listed_at", "-pk")[:UPSELL_SUGGESTIONS]
    )


def _replied(conversation: str, other: str):
    """Did the other member write in the conversation after this (a greeting, an upsell)?"""
    return Exists(
        Message.objects.filter(
            conversation_id=OuterRef(conversation), sender_id=OuterRef(other), created_at__gt=OuterRef("created_at")
        )
    )


def _converted(buyer: str, seller: str):
    """Did the buyer buy from the seller after this (a new order, or an item added to one)?"""
    return Exists(
        OrderLine.objects.filter(
            order__buyer_id=OuterRef(buyer),
            order__seller_id=OuterRef(seller),
            active=True,
            created_at__gt=OuterRef("created_at"),
        )
    )


_GREETING_REPLIED = _replied("message__conversation_id", "visitor_id")
_GREETING_CONVERTED = _converted("visitor_id", "seller_id")
_UPSELL_REPLIED = _replied("message__conversation_id", "order__buyer_id")
_UPSELL_CONVERTED = _converted("order__buyer_id", "order__seller_id")


def offer_counts(now: datetime) -> dict:
    """Annotations of OfferToLikers rows: `sent`, `accepted` and `expired` offers."""
    return _offer_counts("offers__", now)


def _offer_counts(prefix: str, now: datetime) -> dict:
    """Counts of offers (reached through `prefix`) sent, accepted, and expired: past their time
    whether or not the expiry task marked them yet."""
    status, expires_at = f"{prefix}status", f"{prefix}expires_at"
    return {
        "sent": Count(f"{prefix}pk"),
        "accepted": Count(f"{prefix}pk", filter=Q(**{status: Offer.Status.ACCEPTED})),
        "expired": Count(
            f"{prefix}pk",
            filter=Q(**{status: Offer.Status.EXPIRED}) | Q(**{status: Offer.Status.PENDING, f"{expires_at}__lte": now}),
        ),
    }
