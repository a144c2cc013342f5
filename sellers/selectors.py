"""Reads of the seller tools: whom they reach, what to suggest, and what the seller sees of the results."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncWeek

from accounts.models import User
from live.models import Show
from marketplace import selectors as marketplace_selectors
from marketplace.models import Listing, ListingPriceChange, Offer, Order, OrderLine, ShippingRate
from marketplace.pricing import CENT
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    AutoGreeting,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    Greeting,
    GreetingOptOut,
    GreetingTemplate,
    LastGreeting,
    MentoringGroup,
    MentoringProgram,
    MentoringSeat,
    OfferToLikers,
    PriceDropNotice,
    Program,
    ProgramChange,
    ProgramKey,
    SellerToolSettings,
    ShippingSubsidy,
    Upsell,
)
from social.models import Block, ClosetVisit, Like, Message, Share
from social.selectors import conversations_of, messages_shown_to, users_for, with_follow_stats

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


def price_drops(listing: Listing):
    """The listing's price-drop notices, newest first: order by ("-created_at", "-pk")."""
    return PriceDropNotice.objects.filter(listing_id=listing.pk)


def greeting_templates(seller):
    return GreetingTemplate.objects.filter(seller_id=seller.pk).order_by("name", "pk")


def auto_greeting_of(seller) -> AutoGreeting | None:
    return AutoGreeting.objects.filter(seller_id=seller.pk).select_related("template").first()


def greetings_enabled(user) -> bool:
    return not GreetingOptOut.objects.filter(user_id=user.pk).exists()


def closet_visitors(seller, *, now: datetime):
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


def greetings_sent(seller):
    """The seller's greetings with their `replied` and `converted` (see _replied, _converted),
    newest first: order by ("-created_at", "-pk")."""
    return (
        Greeting.objects.filter(seller_id=seller.pk)
        .annotate(replied=_GREETING_REPLIED, converted=_GREETING_CONVERTED)
        .prefetch_related(
            Prefetch("visitor", queryset=users_for(seller)), Prefetch("message", queryset=messages_shown_to(seller))
        )
    )


def upsells_sent(seller):
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


def results(seller, *, since: datetime, now: datetime) -> dict:
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


def upsell_suggestions(order: Order, viewer):
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
        _points(Exists(Like.objects.filter(listing_id=OuterRef("pk"), user_id=order.buyer_id)), 4)
        + _points(Q(category__path__in=complements), 3)
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


def _points(condition, points: int):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


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


# Community programs ----------------------------------------------------------------------------

MONEY = DecimalField(max_digits=10, decimal_places=2)


def completed_orders():
    """The orders that count for the programs (a seller's sales, a buyer's purchases): every order
    not cancelled, shipped or not, the rule of marketplace's first_sale event. A seller with none
    has not made a first sale."""
    return Order.objects.exclude(status=Order.Status.CANCELLED)


def _first_sale_shipping_offers(now: datetime):
    """The first-sale program's row if it runs, with `offer`: what a first order's shipping gets off
    now, i.e. its amount capped by the per-order cap, what is left of the budget and the label fee;
    no row once less than a cent is left. Read from the program's row by every query (no cache):
    the moment the budget is spent, the banner is gone from every listing."""
    label_fee = Coalesce(
        Subquery(ShippingRate.objects.filter(currency=OuterRef("currency")).values("label_fee")[:1]),
        Value(settings.SHIPPING_LABEL_FEE),
        output_field=MONEY,
    )
    return (
        FirstSaleShippingProgram.objects.filter(Program.running_at(now))
        .annotate(offer=Least("amount", "per_order_cap", F("budget") - F("spent"), label_fee, output_field=MONEY))
        .filter(offer__gte=CENT)
    )


def first_sale_shipping_banner(now: datetime):
    """An annotation of listings: what the first-sale program takes off the shipping of their
    seller's first order, or null (the seller has a sale, the listing is in another currency, the
    program does not run or its budget is spent). Two subqueries, no query per row."""
    offer = _first_sale_shipping_offers(now).filter(currency=OuterRef("currency")).values("offer")[:1]
    return Case(
        When(Exists(completed_orders().filter(seller_id=OuterRef("seller_id"))), then=Value(None)),
        default=Subquery(offer),
        output_field=MONEY,
    )


def first_sale_shipping_offer(*, seller_id: int, currency: str, now: datetime) -> Decimal | None:
    """What the first-sale program takes off the shipping of this seller's next order, or None (one query)."""
    return (
        _first_sale_shipping_offers(now)
        .filter(currency=currency)
        .filter(~Exists(completed_orders().filter(seller_id=seller_id)))
        .values_list("offer", flat=True)
        .first()
    )


def program_changes(viewer, *, program: str | None = None):
    """The audit of program settings (one program's, or all), with who made each change (deactivated
    staff too); newest first: order by ("-changed_at", "-pk")."""
    changes = ProgramChange.objects.all() if program is None else ProgramChange.objects.filter(program=program)
    return changes.prefetch_related(Prefetch("changed_by", queryset=with_follow_stats(User.objects.all(), viewer)))


def sellers_to_nudge(program: FirstSaleNudgeProgram, now: datetime, listings_by_kind: dict):
    """Sellers due a first-sale nudge: active, joined long enough ago, with an available listing, no
    sale, no nudge within the cadence. Each is annotated `nudge_<kind>` with the listing that kind
    of nudge would be about (`listings_by_kind`: kind → a listing subquery of the seller, or null
    when it does not apply); those with none are left out. One query; order by pk."""
    applies = Q()
    for kind in listings_by_kind:
        applies |= Q(**{f"nudge_{kind}__isnull": False})
    return (
        User.objects.filter(is_active=True, date_joined__lte=now - program.first_nudge_after)
        .filter(Exists(Listing.objects.filter(seller_id=OuterRef("pk"), status=Listing.Status.AVAILABLE)))
        .filter(~Exists(completed_orders().filter(seller_id=OuterRef("pk"))))
        .filter(~Exists(FirstSaleNudge.objects.filter(seller_id=OuterRef("pk"), sent_at__gt=now - program.cadence)))
        .annotate(**{f"nudge_{kind}": listing for kind, listing in listings_by_kind.items()})
        .filter(applies)
        .order_by("pk")
    )


def _nudge_candidates(kind: str):
    """The available listings of the seller (OuterRef "pk") they were not nudged about this way yet."""
    return Listing.objects.filter(seller_id=OuterRef("pk"), status=Listing.Status.AVAILABLE).filter(
        ~Exists(FirstSaleNudge.objects.filter(listing_id=OuterRef("pk"), kind=kind))
    )


def listing_for_offer_to_likers(kind: str, program: FirstSaleNudgeProgram, now: datetime):
    """The seller's most liked listing whose likers they never sent an offer."""
    listings = (
        _nudge_candidates(kind)
        .filter(like_count__gt=0)
        .filter(~Exists(OfferToLikers.objects.filter(listing_id=OuterRef("pk"))))
    )
    return Subquery(listings.order_by("-like_count", "pk").values("pk")[:1])


def stale_listing(kind: str, program: FirstSaleNudgeProgram, now: datetime):
    """The seller's oldest listing with no like and no price change for `stale_after`, whose price
    they never tried lowering."""
    since = now - program.stale_after
    changes = ListingPriceChange.objects.filter(listing_id=OuterRef("pk"))
    listings = (
        _nudge_candidates(kind)
        .filter(listed_at__lte=since)
        .filter(~Exists(Like.objects.filter(listing_id=OuterRef("pk"), created_at__gt=since)))
        .filter(~Exists(changes.filter(Q(changed_at__gt=since) | Q(new_price__lt=F("old_price")))))
    )
    return Subquery(listings.order_by("listed_at", "pk").values("pk")[:1])


def listing_for_first_show(kind: str, program: FirstSaleNudgeProgram, now: datetime):
    """When the seller never hosted a show (and was never nudged to): their most liked listing,
    to feature first. Once per seller, not once per listing."""
    listings = (
        _nudge_candidates(kind)
        .filter(~Exists(Show.objects.filter(host_id=OuterRef("seller_id"))))
        .filter(~Exists(FirstSaleNudge.objects.filter(seller_id=OuterRef("seller_id"), kind=kind)))
    )
    return Subquery(listings.order_by("-like_count", "-listed_at", "pk").values("pk")[:1])


def listing_to_share(kind: str, program: FirstSaleNudgeProgram, now: datetime):
    """When the seller shared none of their own listings for `stale_after`: their most liked one."""
    shared_lately = Share.objects.filter(
        sharer_id=OuterRef("seller_id"),
        listing__seller_id=OuterRef("seller_id"),
        created_at__gt=now - program.stale_after,
    )
    listings = _nudge_candidates(kind).filter(~Exists(shared_lately))
    return Subquery(listings.order_by("-like_count", "-listed_at", "pk").values("pk")[:1])


def eligible_ambassadors(program: AmbassadorProgram):
    """Active members who meet every rule of the program: shares of others' listings, available
    listings, sales, average rating (nobody rated them: 0) and average ship time (payment to
    shipping; it takes a shipped order), each a correlated aggregate subquery: one statement, no
    loop over members."""
    sales = completed_orders().filter(seller_id=OuterRef("pk"))
    shares_of_others = Share.objects.filter(sharer_id=OuterRef("pk")).exclude(listing__seller_id=OuterRef("pk"))
    available = Listing.objects.filter(seller_id=OuterRef("pk"), status=Listing.Status.AVAILABLE)
    ship_time = ExpressionWrapper(F("shipped_at") - F("placed_at"), output_field=DurationField())
    return (
        User.objects.filter(is_active=True)
        .annotate(
            shares_of_others=_per_member(shares_of_others, "sharer_id", Count("pk"), IntegerField(), 0),
            available_listings=_per_member(available, "seller_id", Count("pk"), IntegerField(), 0),
            sales_made=_per_member(sales, "seller_id", Count("pk"), IntegerField(), 0),
            rating=_per_member(
                sales.filter(buyer_rating__isnull=False), "seller_id", Avg("buyer_rating"), FloatField(), 0.0
            ),
            average_ship_time=_per_member(
                sales.filter(shipped_at__isnull=False), "seller_id", Avg(ship_time), DurationField()
            ),
        )
        .filter(
            shares_of_others__gte=program.min_shares_of_others,
            available_listings__gte=program.min_available_listings,
            sales_made__gte=program.min_sales,
            rating__gte=program.min_rating,
            average_ship_time__lt=program.max_average_ship_time,
        )
    )


def _per_member(rows, member_column: str, aggregate, output_field, empty=None):
    """A correlated subquery: `aggregate` of `rows` grouped by the member they belong to (`empty`
    for a member with no rows)."""
    value = Subquery(
        rows.order_by().values(member_column).annotate(value=aggregate).values("value"), output_field=output_field
    )
    return value if empty is None else Coalesce(value, Value(empty), output_field=output_field)


def mentor_candidates(mentee, program: MentoringProgram):
    """Ambassadors who may mentor `mentee`, best first. They are current, opted in, active, not the
    mentee, not blocked either way, and mentor fewer open groups than the program allows. Order:
    fewest open groups (balanced load), then the most categories shared with the mentee's listings,
    then the same time zone region (the part before "/", e.g. Europe), then id (deterministic)."""
    region = mentee.time_zone.partition("/")[0]
    open_seats = MentoringSeat.objects.filter(mentor_id=OuterRef("user_id"), group__status=MentoringGroup.Status.OPEN)
    mentee_categories = Listing.objects.filter(seller_id=mentee.pk).exclude(status=Listing.Status.REMOVED)
    shared = Listing.objects.filter(
        seller_id=OuterRef("user_id"),
        status=Listing.Status.AVAILABLE,
        category_id__in=mentee_categories.values("category_id"),
    )
    return (
        Ambassador.objects.filter(revoked_at__isnull=True, mentoring_opt_in=True, user__is_active=True)
        .exclude(user_id=mentee.pk)
        .exclude(user_id__in=Block.objects.filter(blocker_id=mentee.pk).values("blocked_id"))
        .exclude(user_id__in=Block.objects.filter(blocked_id=mentee.pk).values("blocker_id"))
        .annotate(
            load=_per_member(open_seats, "mentor_id", Count("pk"), IntegerField(), 0),
            shared_categories=_per_member(shared, "seller_id", Count("category_id", distinct=True), IntegerField(), 0),
            same_region=_points(Q(user__time_zone=region) | Q(user__time_zone__startswith=f"{region}/"), 1),
        )
        .filter(load__lt=program.max_groups_per_mentor)
        .order_by("load", "-shared_categories", "-same_region", "user_id")
    )


def mentoring_groups_of(viewer):
    """The groups the viewer is mentored in or mentors, with the mentee, the mentors and the group
    conversation (the viewer's side of it) in fixed queries; newest first: ("-created_at", "-pk")."""
    users = users_for(viewer)
    mentored = MentoringSeat.objects.filter(mentor_id=viewer.pk).values("group_id")
    return MentoringGroup.objects.filter(Q(mentee_id=viewer.pk) | Q(pk__in=mentored)).prefetch_related(
        Prefetch("mentee", queryset=users),
        Prefetch("mentors", queryset=users.order_by("pk")),
        Prefetch("conversation", queryset=conversations_of(viewer)),
    )


def mentoring_groups_due_to_close(now: datetime, grace) -> list[tuple[int, int]]:
    """(group, conversation) ids of open groups whose mentee made their first sale `grace` ago."""
    sold_long_enough = completed_orders().filter(seller_id=OuterRef("mentee_id"), placed_at__lte=now - grace)
    return list(
        MentoringGroup.objects.filter(status=MentoringGroup.Status.OPEN)
        .filter(Exists(sold_long_enough))
        .values_list("pk", "conversation_id")
    )


# Community programs: results for staff ---------------------------------------------------------

# The habit point (DESIGN.md §2): a buyer who places 4 orders in their first 4 months stays.
HABIT_ORDERS, HABIT_DAYS = 4, 120

# Whether a member (OuterRef "pk") took part in a program whose effect on first sales staff
# compare: joined between the shipping discount's dates (their listings could carry the banner),
# got a nudge, was mentored. The shipping program's dates are read as they are now; its audit
# (ProgramChange) tells when they were changed.
PARTICIPATION = {
    ProgramKey.FIRST_SALE_SHIPPING: lambda: Exists(
        FirstSaleShippingProgram.objects.filter(
            starts_at__lte=OuterRef("date_joined"), ends_at__gt=OuterRef("date_joined")
        )
    ),
    ProgramKey.FIRST_SALE_NUDGES: lambda: Exists(FirstSaleNudge.objects.filter(seller_id=OuterRef("pk"))),
    ProgramKey.MENTORING: lambda: Exists(MentoringGroup.objects.filter(mentee_id=OuterRef("pk"))),
}


@dataclass(frozen=True)
class FirstSaleCohort:
    program: str
    week_starting: date
    in_program: bool
    sellers: int
    first_sales: int
    average_days_to_first_sale: float | None

    @property
    def first_sale_rate(self) -> float:
        return self.first_sales / self.sellers


@dataclass(frozen=True)
class SubsidyFigures:
    program: FirstSaleShippingProgram
    paid: Decimal
    returned: Decimal
    subsidised_orders: int
    returned_orders: int


@dataclass(frozen=True)
class MentorResponses:
    questions: int
    answered: int
    average_hours: float | None


@dataclass(frozen=True)
class BuyerHabitCohort:
    week_starting: date
    buyers: int
    with_two_orders: int
    with_three_orders: int
    reached_habit: int
    window_over: bool

    @property
    def habit_rate(self) -> float:
        return self.reached_habit / self.buyers


@dataclass(frozen=True)
class ProgramResults:
    since: datetime
    first_sale: list[FirstSaleCohort]
    subsidy: SubsidyFigures
    mentor_responses: MentorResponses
    habit_orders: int
    habit_days: int
    buyer_habit: list[BuyerHabitCohort]


def program_results(
    *, now: datetime, weeks: int, habit_orders: int = HABIT_ORDERS, habit_days: int = HABIT_DAYS
) -> ProgramResults:
    """What staff read of the programs over the last `weeks`, in aggregate SQL (seven queries,
    whatever the number of members): first-sale figures by join-week cohort for sellers in and out
    of each program, the shipping subsidy, mentors' response times and buyers' habit cohorts."""
    since = now - timedelta(weeks=weeks)
    return ProgramResults(
        since=since,
        first_sale=first_sale_cohorts(since=since),
        subsidy=subsidy_figures(),
        mentor_responses=mentor_responses(since=since),
        habit_orders=habit_orders,
        habit_days=habit_days,
        buyer_habit=buyer_habit_cohorts(since=since, now=now, orders=habit_orders, days=habit_days),
    )


def first_sale_cohorts(*, since: datetime) -> list[FirstSaleCohort]:
    """Sellers (members with a listing) who joined since then, by join week and by whether they
    took part in each program: how many, how many made a first sale, and the average days from
    joining to it. One GROUP BY query per program."""
    first_sale_at = _per_member(
        completed_orders().filter(seller_id=OuterRef("pk")), "seller_id", Min("placed_at"), DateTimeField()
    )
    days_to_first_sale = ExpressionWrapper(F("first_sale_at") - F("date_joined"), output_field=DurationField())
    sellers = (
        User.objects.filter(date_joined__gte=since)
        .filter(Exists(Listing.objects.filter(seller_id=OuterRef("pk"))))
        .alias(first_sale_at=first_sale_at)
        .annotate(cohort=TruncWeek("date_joined"))
    )
    cohorts = []
    for program, took_part in PARTICIPATION.items():
        rows = (
            sellers.annotate(in_program=took_part())
            .values("cohort", "in_program")
            .annotate(
                sellers=Count("pk"), first_sales=Count("first_sale_at"), time_to_first_sale=Avg(days_to_first_sale)
            )
            .order_by("cohort", "in_program")
        )
        cohorts += [
            FirstSaleCohort(
                program=program,
                week_starting=row["cohort"].date(),
                in_program=bool(row["in_program"]),
                sellers=row["sellers"],
                first_sales=row["first_sales"],
                average_days_to_first_sale=_in_days(row["time_to_first_sale"]),
            )
            for row in rows
        ]
    return cohorts


def subsidy_figures() -> SubsidyFigures:
    """The shipping program's budget and spending, with its ledger's totals (two queries)."""
    debit, credit = Q(entry=ShippingSubsidy.Entry.DEBIT), Q(entry=ShippingSubsidy.Entry.CREDIT)
    zero = Value(Decimal("0.00"), output_field=MONEY)
    ledger = ShippingSubsidy.objects.aggregate(
        paid=Coalesce(Sum("amount", filter=debit), zero),
        returned=Coalesce(Sum("amount", filter=credit), zero),
        subsidised_orders=Count("pk", filter=debit),
        returned_orders=Count("pk", filter=credit),
    )
    return SubsidyFigures(program=FirstSaleShippingProgram.current(), **ledger)


def mentor_responses(*, since: datetime) -> MentorResponses:
    """The questions (mentees' messages in their mentoring group) since then, how many a mentor
    answered, and the average time to the first mentor's message after each (one query)."""
    mentee = "conversation__mentoring_group__mentee_id"
    first_reply = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), created_at__gt=OuterRef("created_at"))
        .exclude(sender_id=OuterRef(mentee))
        .order_by("created_at")
        .values("created_at")[:1]
    )
    figures = (
        Message.objects.filter(created_at__gte=since, sender_id=F(mentee))
        .annotate(answered_at=Subquery(first_reply))
        .aggregate(
            questions=Count("pk"),
            answered=Count("answered_at"),
            response_time=Avg(ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())),
        )
    )
    response_time = figures["response_time"]
    return MentorResponses(
        questions=figures["questions"],
        answered=figures["answered"],
        average_hours=None if response_time is None else response_time / timedelta(hours=1),
    )


def buyer_habit_cohorts(*, since: datetime, now: datetime, orders: int, days: int) -> list[BuyerHabitCohort]:
    """Buyers by the week of their first order (not cancelled) since then: how many, and how many
    placed 2, 3 and `orders` (the habit point) within `days` of their first; `window_over` once
    every buyer of the cohort had all those days. One GROUP BY query."""
    window = timedelta(days=days)
    first_order_at = _per_member(
        completed_orders().filter(buyer_id=OuterRef("pk")), "buyer_id", Min("placed_at"), DateTimeField()
    )
    window_end = ExpressionWrapper(OuterRef("first_order_at") + window, output_field=DateTimeField())
    in_window = _per_member(
        completed_orders().filter(buyer_id=OuterRef("pk"), placed_at__lt=window_end),
        "buyer_id",
        Count("pk"),
        IntegerField(),
        0,
    )
    rows = (
        User.objects.alias(first_order_at=first_order_at)
        .filter(first_order_at__gte=since)
        .alias(orders_in_window=in_window)
        .annotate(cohort=TruncWeek("first_order_at"))
        .values("cohort")
        .annotate(
            buyers=Count("pk"),
            with_two_orders=Count("pk", filter=Q(orders_in_window__gte=2)),
            with_three_orders=Count("pk", filter=Q(orders_in_window__gte=3)),
            reached_habit=Count("pk", filter=Q(orders_in_window__gte=orders)),
        )
        .order_by("cohort")
    )
    cohorts = []
    for row in rows:
        week = row.pop("cohort")
        # Its last buyers made their first order at the end of the week.
        cohorts.append(
            BuyerHabitCohort(week_starting=week.date(), window_over=week + timedelta(weeks=1) + window <= now, **row)
        )
    return cohorts


def _in_days(duration: timedelta | None) -> float | None:
    return None if duration is None else duration / timedelta(days=1)
