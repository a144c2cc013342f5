"""Program results for staff, on a small constructed dataset with known answers: first sales by
join-week cohort in and out of each program, the subsidy, mentors' response times, buyers' habit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from marketplace import services as marketplace_services
from sellers import selectors
from sellers.models import FirstSaleNudge, FirstSaleShippingProgram, MentoringGroup, ShippingSubsidy
from social import services as social_services
from social.models import Message
from tests.sellers.programs import run_program

pytestmark = pytest.mark.django_db

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
RESULTS = """query($weeks: Int) { programResults(weeks: $weeks) {
  firstSale { program weekStarting inProgram sellers firstSales firstSaleRate averageDaysToFirstSale }
  subsidy { budget { amount } spent { amount } remaining { amount } paid { amount } returned { amount }
            subsidisedOrders returnedOrders }
  mentorResponses { questions answered averageHours }
  habitOrders habitDays buyerHabit { weekStarting buyers withTwoOrders withThreeOrders reachedHabit habitRate
                                     windowOver } } }"""


def joined(make_user, name, at, *, listing=True, make_listing=None):
    user, _ = make_user(name)
    User.objects.filter(pk=user.pk).update(date_joined=at)
    if listing:
        make_listing(user, title=f"{name}'s item")
    return User.objects.get(pk=user.pk)


def rows_of(results, program):
    return [
        (cohort.week_starting, cohort.in_program, cohort.sellers, cohort.first_sales, cohort.average_days_to_first_sale)
        for cohort in results.first_sale
        if cohort.program == program
    ]


def test_first_sale_cohorts_in_and_out_of_each_program(staff, weeks, sale, make_user, make_listing):
    now, last_week, week_before = weeks
    # Last week: two nudged sellers (one sold 2 days after joining), one not nudged who sold after 4
    # days, one member with no listing (not a seller). The week before: a mentored seller whose
    # cancelled order does not count; her first sale came a day after joining.
    a1 = joined(make_user, "seller_a1", last_week + DAY, make_listing=make_listing)
    a2 = joined(make_user, "seller_a2", last_week + DAY, make_listing=make_listing)
    a3 = joined(make_user, "seller_a3", last_week + 2 * DAY, make_listing=make_listing)
    joined(make_user, "seller_a4", last_week + 2 * DAY, listing=False)
    b1 = joined(make_user, "seller_b1", week_before + DAY, make_listing=make_listing)
    sale(a1, last_week + 3 * DAY)
    sale(a3, last_week + 6 * DAY)
    sale(b1, week_before + DAY + 12 * HOUR, cancelled=True)
    sale(b1, week_before + 2 * DAY)
    FirstSaleNudge.objects.bulk_create(FirstSaleNudge(seller=seller, kind="share") for seller in (a1, a2))
    conversation = social_services.start_group_conversation(title="Mentoring @b1", member_ids=[b1.pk])
    MentoringGroup.objects.create(mentee=b1, conversation=conversation)
    run_program(FirstSaleShippingProgram, staff, starts_at=last_week, ends_at=last_week + 7 * DAY)

    results = selectors.program_results(now=now, weeks=3)
    week, previous = last_week.date(), week_before.date()
    assert rows_of(results, "first_sale_nudges") == [
        (previous, False, 1, 1, 1.0),
        (week, False, 1, 1, 4.0),
        (week, True, 2, 1, 2.0),
    ]
    assert rows_of(results, "mentoring") == [(previous, True, 1, 1, 1.0), (week, False, 3, 2, 3.0)]
    assert rows_of(results, "first_sale_shipping") == [(previous, False, 1, 1, 1.0), (week, True, 3, 2, 3.0)]
    assert [cohort.first_sale_rate for cohort in results.first_sale if cohort.program == "first_sale_nudges"] == [
        1.0,
        1.0,
        0.5,
    ]
    assert rows_of(selectors.program_results(now=now + 30 * DAY, weeks=2), "mentoring") == []  # joined before


def test_the_subsidy_and_mentors_response_times(
    staff, member, make_listing, make_buyer, django_capture_on_commit_callbacks
):
    run_program(FirstSaleShippingProgram, staff, amount=Decimal("5.00"), budget=Decimal("50.00"))
    buyer = make_buyer("marco")[0]
    kept, cancelled = (
        marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(member(name)), idempotency_key=name)
        for name in ("nina", "olga")
    )
    with django_capture_on_commit_callbacks(execute=True):
        marketplace_services.cancel_order(order=cancelled, actor=buyer)
    assert ShippingSubsidy.objects.count() == 3 and kept.discount_total == Decimal("5.00")

    # Nina asks at 9:00, a mentor answers at 11:00; she asks twice more (12:00, answered 13:00; 14:00, not yet).
    mentee, mentors = member("pia"), [member("mentor1"), member("mentor2")]
    conversation = social_services.start_group_conversation(
        title="Mentoring @pia", member_ids=[mentee.pk, *[m.pk for m in mentors]]
    )
    MentoringGroup.objects.create(mentee=mentee, conversation=conversation)
    start = timezone.now() - DAY
    for author, hours in ((mentee, 0), (mentors[0], 2), (mentee, 3), (mentee, 3.5), (mentors[1], 4), (mentee, 5)):
        message = social_services.send_message(sender=author, conversation=conversation, body="…")
        Message.objects.filter(pk=message.pk).update(created_at=start + hours * HOUR)
    social_services.send_message(sender=mentors[0], recipient=mentee, body="Not in the group: not an answer")

    results = selectors.program_results(now=timezone.now(), weeks=2)
    subsidy = results.subsidy
    assert (subsidy.paid, subsidy.returned, subsidy.subsidised_orders, subsidy.returned_orders) == (
        Decimal("10.00"),
        Decimal("5.00"),
        2,
        1,
    )
    assert subsidy.program.spent == Decimal("5.00")
    # Questions at 0 h, 3 h, 3.5 h and 5 h: answered after 2 h, 1 h and 0.5 h; the last one waits.
    assert results.mentor_responses == selectors.MentorResponses(questions=4, answered=3, average_hours=3.5 / 3)


def test_buyers_progress_to_the_habit_point_by_cohort(make_user, sale, make_buyer, weeks):
    now = timezone.now()
    monday = weeks[1] + 7 * DAY
    first, second = monday - 25 * 7 * DAY, monday - 24 * 7 * DAY  # two cohorts whose 120 days are over
    recent = monday
    seller, _ = make_user("seller")
    orders = {"habit": [1, 10, 40, 100, 130], "two": [2, 50], "one": [3], "three_next_week": [8, 9, 10]}
    for name, days in orders.items():
        buyer = make_buyer(name)[0]
        for day in days:
            sale(seller, first + day * DAY, buyer=buyer)
    sale(seller, first + 5 * DAY, buyer=User.objects.get(username="one"), cancelled=True)
    sale(seller, recent + HOUR, buyer=make_buyer("newcomer")[0])

    cohorts = selectors.program_results(now=now, weeks=30).buyer_habit
    assert [
        (c.week_starting, c.buyers, c.with_two_orders, c.with_three_orders, c.reached_habit, c.window_over)
        for c in cohorts
    ] == [(first.date(), 3, 2, 1, 1, True), (second.date(), 1, 1, 1, 0, True), (recent.date(), 1, 0, 0, 0, False)]
    assert cohorts[0].habit_rate == 1 / 3
    three_orders = selectors.program_results(now=now, weeks=30, habit_orders=3).buyer_habit
    assert [cohort.reached_habit for cohort in three_orders] == [1, 1, 0]


def test_staff_read_the_results_through_the_api_in_a_fixed_number_of_queries(
    gql, staff, member, make_user, make_listing, sale, weeks
):
    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            body = gql(RESULTS, {"weeks": 4}, token=staff.token)
        return body["data"]["programResults"], len(captured.captured_queries)

    gql(RESULTS, {"weeks": 4}, token=staff.token)  # warm-up: the token's last-used stamp, the program's row
    _, few = count_queries()
    for number in range(12):
        seller = joined(make_user, f"seller{number}", weeks[1] + number % 5 * DAY, make_listing=make_listing)
        if number % 2:
            sale(seller, weeks[1] + 6 * DAY)
    results, many = count_queries()
    assert few == many
    nudges = [cohort for cohort in results["firstSale"] if cohort["program"] == "FIRST_SALE_NUDGES"]
    assert sum(cohort["sellers"] for cohort in nudges) == 12 and sum(cohort["firstSales"] for cohort in nudges) == 6
    assert results["subsidy"]["budget"] == {"amount": "0.00"} and results["habitOrders"] == 4

    seller = member("nina")
    assert gql(RESULTS, token=seller.token)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql(RESULTS, {"weeks": 0}, token=staff.token)["errors"][0]["extensions"]["code"] == "INVALID"
