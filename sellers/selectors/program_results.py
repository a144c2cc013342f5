"""The results of the community programs for staff: first-sale rates in and out of each program,
time to first sale, subsidy against budget, mentor responses, buyers' habit."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncWeek

from accounts.models import User
from marketplace.models import Listing
from sellers.models import (
    FirstSaleNudge,
    FirstSaleShippingProgram,
    MentoringGroup,
    ProgramKey,
    ShippingSubsidy,
)
from sellers.selectors.expressions import MONEY, per_member
from sellers.selectors.programs import completed_orders
from social.models import Message

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
    first_sale_at = per_member(
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
    first_order_at = per_member(
        completed_orders().filter(buyer_id=OuterRef("pk")), "buyer_id", Min("placed_at"), DateTimeField()
    )
    window_end = ExpressionWrapper(OuterRef("first_order_at") + window, output_field=DateTimeField())
    in_window = per_member(
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
