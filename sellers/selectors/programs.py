"""Reads of the community programs: who qualifies (sellers to nudge, ambassadors, mentors), what a
member is offered, and the audit of program changes."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
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
from live.models import Show
from marketplace import hooks
from marketplace.models import Listing, ListingPriceChange, Order, ShippingRate
from marketplace.pricing import CENT
from reviews.models import Review
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    MentoringGroup,
    MentoringProgram,
    MentoringSeat,
    OfferToLikers,
    Program,
    ProgramChange,
)
from sellers.selectors.expressions import MONEY, per_member, points_if
from social.models import Block, Like, Share
from social.selectors import conversations_of, users_for


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


def program_changes(viewer: User, *, program: str | None = None) -> QuerySet[ProgramChange]:
    """The audit of program settings (one program's, or all), with who made each change (deactivated
    staff too); newest first: order by ("-changed_at", "-pk")."""
    changes = ProgramChange.objects.all() if program is None else ProgramChange.objects.filter(program=program)
    return changes.prefetch_related(Prefetch("changed_by", queryset=hooks.members_as_shown(User.objects.all(), viewer)))


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
    listings, sales, average rating (of the reviews shown; nobody reviewed them: 0) and average ship time (payment to
    shipping; it takes a shipped order), each a correlated aggregate subquery: one statement, no
    loop over members."""
    sales = completed_orders().filter(seller_id=OuterRef("pk"))
    shares_of_others = Share.objects.filter(sharer_id=OuterRef("pk")).exclude(listing__seller_id=OuterRef("pk"))
    available = Listing.objects.filter(seller_id=OuterRef("pk"), status=Listing.Status.AVAILABLE)
    shown_reviews = Review.objects.filter(seller_id=OuterRef("pk"), hidden_at__isnull=True)
    ship_time = ExpressionWrapper(F("shipped_at") - F("placed_at"), output_field=DurationField())
    return (
        User.objects.filter(is_active=True)
        .annotate(
            shares_of_others=per_member(shares_of_others, "sharer_id", Count("pk"), IntegerField(), 0),
            available_listings=per_member(available, "seller_id", Count("pk"), IntegerField(), 0),
            sales_made=per_member(sales, "seller_id", Count("pk"), IntegerField(), 0),
            rating=per_member(shown_reviews, "seller_id", Avg("rating"), FloatField(), 0.0),
            average_ship_time=per_member(
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


def mentor_candidates(mentee: User, program: MentoringProgram) -> QuerySet[Ambassador]:
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
            load=per_member(open_seats, "mentor_id", Count("pk"), IntegerField(), 0),
            shared_categories=per_member(shared, "seller_id", Count("category_id", distinct=True), IntegerField(), 0),
            same_region=points_if(Q(user__time_zone=region) | Q(user__time_zone__startswith=f"{region}/"), 1),
        )
        .filter(load__lt=program.max_groups_per_mentor)
        .order_by("load", "-shared_categories", "-same_region", "user_id")
    )


def mentoring_groups_of(viewer: User) -> QuerySet[MentoringGroup]:
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
