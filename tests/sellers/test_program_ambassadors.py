"""Ambassadors: a periodic task grants the status to members who meet the staff's bar (shares of
others' items, available listings, sales, rating, ship time) and revokes it when they no longer do;
ambassadors opt in to mentoring."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Order
from notifications.models import Notification
from reviews.models import Review
from sellers import services, tasks
from sellers.models import Ambassador, AmbassadorProgram
from social import services as social_services
from tests.sellers.programs import run_program

pytestmark = pytest.mark.django_db

KEYS = itertools.count()
STATUS = "{ ambassadorStatus { isAmbassador since mentoringOptIn } }"
OPT_IN = """mutation($input: SetAmbassadorOptInInput!) { setAmbassadorOptIn(input: $input) {
  ambassadorStatus { isAmbassador mentoringOptIn } errors { field code } } }"""


@pytest.fixture
def bar(staff):
    """A small bar: 2 shares of others' items, 2 available listings, 2 sales, rating 4.5, ship within 3 days."""
    return run_program(
        AmbassadorProgram,
        staff,
        min_shares_of_others=2,
        min_available_listings=2,
        min_sales=2,
        min_rating=Decimal("4.5"),
        max_average_ship_days=Decimal("3.0"),
    )


@pytest.fixture
def closet(make_listing, make_buyer, member):
    """A member whose closet meets the bar: `closet("ava", ratings=(5, 4), ship_days=(1, 2), shares=2, ...)`."""
    others = make_listing(member("someone"), title="Someone's coat")
    buyer, _ = make_buyer("shopper")

    def make(name, *, ratings=(5, 5), ship_days=(1, 2), shares=2, available=2):
        user = member(name)
        for number in range(available):
            make_listing(user, title=f"{name} item {number}")
        for stars, days in zip(ratings, ship_days, strict=False):
            sell(user, buyer, make_listing, stars=stars, ship_days=days)
        for _ in range(shares):
            social_services.share_listing(sharer=user, listing=others)
        return user

    return make


def sell(seller, buyer, make_listing, *, stars=None, ship_days=None):
    """An order of the seller's, shipped `ship_days` after payment and accepted with `stars` (as data)."""
    order = marketplace_services.purchase_listing(
        buyer=buyer, listing=make_listing(seller, title="Sold item"), idempotency_key=f"sale-{next(KEYS)}"
    )
    if ship_days is not None:
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.ACCEPTED, shipped_at=order.placed_at + timedelta(days=ship_days)
        )
    if stars is not None:
        Review.objects.create(order=order, buyer=buyer, seller=seller, rating=stars)
    return order


def ambassadors():
    return sorted(Ambassador.objects.filter(revoked_at__isnull=True).values_list("user__username", flat=True))


def refresh():
    return services.refresh_ambassadors(now=timezone.now())


def test_members_meeting_the_bar_are_granted_the_status_and_told(bar, closet, django_capture_on_commit_callbacks):
    ava = closet("ava")
    closet("own_shares", shares=0)  # sharing one's own items does not count
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh() == (1, 0)
    assert ambassadors() == ["ava"]
    assert list(Notification.objects.filter(recipient=ava).values_list("kind", "title")) == [
        ("program_nudge", "You are a Closetline ambassador")
    ]
    assert refresh() == (0, 0)  # nothing changed: nothing granted again


@pytest.mark.parametrize(
    "short_of",
    [
        {"shares": 1},
        {"available": 1},
        {"ratings": (5,), "ship_days": (1,)},
        {"ratings": (5, 3)},
        {"ship_days": (2, 5)},
        {"ratings": (None, None)},
    ],
)
def test_each_rule_must_be_met(bar, closet, short_of):
    closet("ava", **short_of)
    assert refresh() == (0, 0) and ambassadors() == []


def test_eligibility_changes_grant_and_revoke(staff, bar, closet, make_listing, make_buyer):
    ava, marco = closet("ava"), closet("marco")
    assert refresh() == (2, 0)

    # Marco's new sale is rated 1 (average 3.7) and shipped late (average 4 days): revoked.
    sell(marco, make_buyer("critic")[0], make_listing, stars=1, ship_days=9)
    assert refresh() == (0, 1)
    assert ambassadors() == ["ava"]
    assert Ambassador.objects.get(user=marco).revoked_at is not None

    # Ava sells one of her two listings (one left available) and the bar drops to one listing.
    marketplace_services.purchase_listing(
        buyer=make_buyer("fan")[0], listing=ava.listings.filter(status="available").first(), idempotency_key="fan-buys"
    )
    assert refresh() == (0, 1) and ambassadors() == []
    run_program(
        AmbassadorProgram,
        staff,
        min_available_listings=1,
        min_rating=Decimal("3.5"),
        max_average_ship_days=Decimal("5.0"),
    )
    assert refresh() == (2, 0)  # both back
    assert ambassadors() == ["ava", "marco"]


def test_nothing_changes_while_the_program_does_not_run(staff, bar, closet):
    closet("ava")
    run_program(AmbassadorProgram, staff, active=False)
    assert refresh() == (0, 0) and ambassadors() == []
    run_program(AmbassadorProgram, staff, active=True)
    tasks.refresh_ambassadors()
    assert ambassadors() == ["ava"]


def test_ambassadors_opt_in_to_mentoring(gql, bar, closet, member):
    ava = closet("ava")
    refresh()
    assert gql(STATUS, token=ava.token)["data"]["ambassadorStatus"]["isAmbassador"] is True
    opted = gql(OPT_IN, {"input": {"optIn": True}}, token=ava.token)["data"]["setAmbassadorOptIn"]
    assert opted == {"ambassadorStatus": {"isAmbassador": True, "mentoringOptIn": True}, "errors": []}
    assert Ambassador.objects.get(user=ava).mentoring_opt_in is True

    newcomer = member("nina")
    assert gql(OPT_IN, {"input": {"optIn": True}}, token=newcomer.token)["data"]["setAmbassadorOptIn"] == {
        "ambassadorStatus": None,
        "errors": [{"field": "optIn", "code": "NOT_AN_AMBASSADOR"}],
    }
    assert gql(STATUS, token=newcomer.token)["data"]["ambassadorStatus"] == {
        "isAmbassador": False,
        "since": None,
        "mentoringOptIn": False,
    }

    Ambassador.objects.filter(user=ava).update(revoked_at=timezone.now())
    assert gql(STATUS, token=ava.token)["data"]["ambassadorStatus"]["mentoringOptIn"] is False
    assert gql(OPT_IN, {"input": {"optIn": False}}, token=ava.token)["data"]["setAmbassadorOptIn"]["errors"] == [
        {"field": "optIn", "code": "NOT_AN_AMBASSADOR"}
    ]
