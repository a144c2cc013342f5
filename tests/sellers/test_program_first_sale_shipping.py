"""First-sale shipping discount: the banner on a new seller's listings, the discount on their first
order paid from the program's budget (never overspent), given back when that order is cancelled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.errors import ServiceError
from marketplace import selectors as marketplace_selectors
from marketplace import services as marketplace_services
from marketplace.models import Listing, Order, ShippingRate
from sellers.models import FirstSaleShippingProgram, ProgramChange, ShippingSubsidy
from tests.helpers import assert_constant_queries, gid, race
from tests.marketplace.checkout_api import PURCHASE, money
from tests.sellers.programs import run_program

pytestmark = pytest.mark.django_db

BANNER = "query($id: ID!) { listing(id: $id) { firstSaleShippingDiscount { amount currency } } }"
CARDS = """query($first: Int) { listings(first: $first) { edges { node { title price { amount }
  firstSaleShippingDiscount { amount currency } } } } }"""
UPDATE = """mutation($input: FirstSaleShippingProgramInput!) { updateFirstSaleShippingProgram(input: $input) {
  program { active running currency amount { amount } perOrderCap { amount } budget { amount }
            spent { amount } remaining { amount } }
  errors { field code } } }"""
PROGRAMS = """{ communityPrograms { firstSaleShipping { active budget { amount } spent { amount } } } }"""
CHANGES = """query($first: Int) { programChanges(first: $first, program: FIRST_SALE_SHIPPING) { edges { node {
  program changedAt changedBy { username } changes { field oldValue newValue } } } } }"""


def banner(gql, listing):
    return gql(BANNER, {"id": gid(listing)})["data"]["listing"]["firstSaleShippingDiscount"]


def program():
    return FirstSaleShippingProgram.objects.get()


def buy(api, buyer, listing, key="first-purchase-key"):
    variables = {"input": {"listingId": gid(listing), "idempotencyKey": key}}
    return api(PURCHASE, variables, token=buyer.token)["data"]["purchaseListing"]


@pytest.fixture
def buyer(make_buyer):
    user, token = make_buyer("marco")
    user.token = token
    return user


def test_a_new_sellers_listings_carry_the_banner_until_the_first_sale_which_gets_the_discount(
    api, gql, staff, buyer, make_user, make_listing, django_capture_on_commit_callbacks
):
    seller, _ = make_user("nina")
    dress, coat = make_listing(seller, title="Dress"), make_listing(seller, title="Coat")
    other = make_listing(make_user("olga")[0], title="Scarf")
    assert banner(gql, dress) is None  # no program yet

    run_program(
        FirstSaleShippingProgram, staff, amount=Decimal("5.00"), per_order_cap=Decimal("4.00"), budget=Decimal("100.00")
    )
    assert banner(gql, dress) == money("4.00")  # the per-order cap
    run_program(FirstSaleShippingProgram, staff, per_order_cap=Decimal("10.00"), amount=Decimal("8.00"))
    assert banner(gql, dress) == money("6.49")  # never more than the label fee
    run_program(FirstSaleShippingProgram, staff, amount=Decimal("5.00"))
    assert banner(gql, dress) == money("5.00")

    order = buy(api, buyer, dress)["order"]
    assert order["discounts"] == [
        {
            "source": "PROGRAM",
            "appliesTo": "SHIPPING",
            "amount": money("5.00"),
            "description": "First sale: shipping discount from Closetline",
        }
    ]
    assert (order["shippingFee"], order["total"]) == (money("6.49"), money("26.49"))
    assert program().spent == Decimal("5.00")
    debit = ShippingSubsidy.objects.get()
    assert (debit.entry, debit.amount, debit.order_id) == ("debit", Decimal("5.00"), Order.objects.get().pk)
    assert banner(gql, coat) is None  # the seller has made a sale
    assert banner(gql, other) == money("5.00")

    with django_capture_on_commit_callbacks(execute=True):  # order_cancelled is handled once committed
        marketplace_services.cancel_order(order=Order.objects.get(), actor=buyer)
    assert program().spent == Decimal("0.00")
    assert list(ShippingSubsidy.objects.order_by("pk").values_list("entry", "amount")) == [
        ("debit", Decimal("5.00")),
        ("credit", Decimal("5.00")),
    ]
    assert banner(gql, coat) == money("5.00")  # no sale again: the next first order gets it

    with django_capture_on_commit_callbacks(execute=True):  # a re-delivered event gives nothing back twice
        from marketplace import events
        from marketplace.models import DomainEvent

        event = DomainEvent.objects.get(name="order_cancelled")
        DomainEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
        events.dispatch(event.pk)
    assert program().spent == Decimal("0.00") and ShippingSubsidy.objects.count() == 2


def test_when_the_budget_is_spent_the_banner_goes_everywhere_at_once(
    api, gql, staff, make_user, make_buyer, make_listing
):
    run_program(
        FirstSaleShippingProgram, staff, amount=Decimal("5.00"), per_order_cap=Decimal("5.00"), budget=Decimal("7.00")
    )
    listings = [make_listing(make_user(f"seller{number}")[0], title=f"Item {number}") for number in range(4)]
    buyer, token = make_buyer("marco")
    buyer.token = token
    assert [banner(gql, listing) for listing in listings] == [money("5.00")] * 4

    buy(api, buyer, listings[0], key="purchase-number-0")
    assert [banner(gql, listing) for listing in listings[1:]] == [money("2.00")] * 3  # what is left
    second = buy(api, buyer, listings[1], key="purchase-number-1")["order"]
    assert second["discounts"][0]["amount"] == money("2.00")
    assert program().spent == program().budget == Decimal("7.00")
    assert [banner(gql, listing) for listing in listings[2:]] == [None, None]
    third = buy(api, buyer, listings[2], key="purchase-number-2")["order"]
    assert third["discounts"] == [] and third["total"] == money("31.49")
    assert ShippingSubsidy.objects.count() == 2


@pytest.mark.parametrize("setting", ["inactive", "in CAD", "not started", "ended"])
def test_no_banner_nor_discount_while_the_program_does_not_run_or_in_another_currency(
    api, gql, staff, buyer, make_user, make_listing, setting
):
    now = timezone.now()
    settings = {
        "inactive": {"active": False},
        "in CAD": {"currency": "CAD"},
        "not started": {"starts_at": now + timedelta(days=1), "ends_at": now + timedelta(days=2)},
        "ended": {"starts_at": now - timedelta(days=2), "ends_at": now - timedelta(days=1)},
    }
    run_program(FirstSaleShippingProgram, staff, budget=Decimal("50.00"))
    run_program(FirstSaleShippingProgram, staff, **settings[setting])
    listing = make_listing(make_user("nina")[0])
    assert banner(gql, listing) is None
    assert buy(api, buyer, listing)["order"]["discounts"] == []
    assert program().spent == Decimal("0.00")


def test_the_discount_covers_what_the_sellers_own_shipping_discount_leaves(api, staff, buyer, make_user, make_listing):
    seller, _ = make_user("nina")
    marketplace_services.update_seller_discounts(seller=seller, shipping_percent=50)
    ShippingRate.objects.create(currency="USD", label_fee=Decimal("8.00"))
    run_program(
        FirstSaleShippingProgram, staff, amount=Decimal("6.00"), per_order_cap=Decimal("6.00"), budget=Decimal("50.00")
    )
    order = buy(api, buyer, make_listing(seller))["order"]
    assert [(d["source"], d["amount"]) for d in order["discounts"]] == [
        ("SELLER", money("4.00")),
        ("PROGRAM", money("4.00")),
    ]
    assert program().spent == Decimal("4.00")  # the platform pays what it took off, not the offer


def test_staff_set_the_program_through_the_api_and_every_change_is_audited(gql, staff, member):
    now = timezone.now()
    changes = {
        "active": True,
        "startsAt": (now - timedelta(days=1)).isoformat(),
        "endsAt": (now + timedelta(days=30)).isoformat(),
        "amount": "5.00",
        "perOrderCap": "6.49",
        "budget": "1000.00",
    }
    updated = gql(UPDATE, {"input": changes}, token=staff.token)["data"]["updateFirstSaleShippingProgram"]
    assert updated == {
        "program": {
            "active": True,
            "running": True,
            "currency": "USD",
            "amount": {"amount": "5.00"},
            "perOrderCap": {"amount": "6.49"},
            "budget": {"amount": "1000.00"},
            "spent": {"amount": "0.00"},
            "remaining": {"amount": "1000.00"},
        },
        "errors": [],
    }
    gql(UPDATE, {"input": {"budget": "1500.00", "amount": "5.00"}}, token=staff.token)  # the amount is unchanged
    [latest, first] = [
        edge["node"] for edge in gql(CHANGES, {"first": 10}, token=staff.token)["data"]["programChanges"]["edges"]
    ]
    assert latest["changes"] == [{"field": "budget", "oldValue": "1000.00", "newValue": "1500.00"}]
    assert latest["changedBy"] == {"username": "community"} and latest["program"] == "FIRST_SALE_SHIPPING"
    # Only what changed: the amount and cap were given at their defaults.
    first_changes = {change["field"]: (change["oldValue"], change["newValue"]) for change in first["changes"]}
    assert sorted(first_changes) == ["active", "budget", "endsAt", "startsAt"]
    assert first_changes["active"] == ("false", "true") and first_changes["budget"] == ("0.00", "1000.00")
    assert first_changes["endsAt"][1] == changes["endsAt"]

    refused = gql(UPDATE, {"input": {"endsAt": (now - timedelta(days=2)).isoformat()}}, token=staff.token)
    assert refused["data"]["updateFirstSaleShippingProgram"]["errors"] == [{"field": None, "code": "INVALID"}]
    assert {
        error["code"]
        for error in gql(UPDATE, {"input": {"budget": "-1"}}, token=staff.token)["data"][
            "updateFirstSaleShippingProgram"
        ]["errors"]
    } == {"INVALID"}
    assert gql(UPDATE, {"input": {"currency": "XYZ"}}, token=staff.token)["data"]["updateFirstSaleShippingProgram"][
        "errors"
    ] == [{"field": "currency", "code": "INVALID_CURRENCY"}]
    assert ProgramChange.objects.count() == 2

    seller = member("nina")
    assert gql(UPDATE, {"input": {"budget": "9"}}, token=seller.token)["data"]["updateFirstSaleShippingProgram"][
        "errors"
    ] == [{"field": None, "code": "FORBIDDEN"}]
    for query in (PROGRAMS, CHANGES):
        assert gql(query, token=seller.token)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql(PROGRAMS, token=staff.token)["data"]["communityPrograms"]["firstSaleShipping"] == {
        "active": True,
        "budget": {"amount": "1500.00"},
        "spent": {"amount": "0.00"},
    }


def test_the_budget_cannot_go_below_what_is_spent(api, staff, buyer, make_user, make_listing):
    run_program(FirstSaleShippingProgram, staff, amount=Decimal("5.00"), budget=Decimal("20.00"))
    buy(api, buyer, make_listing(make_user("nina")[0]))
    with pytest.raises(ServiceError) as refused:
        run_program(FirstSaleShippingProgram, staff, budget=Decimal("4.99"))
    assert refused.value.errors[0].message == "The budget cannot be below what is already spent."
    assert program().budget == Decimal("20.00")


def test_listing_cards_with_the_banner_run_a_fixed_number_of_queries(gql, staff, make_user, make_buyer, make_listing):
    run_program(FirstSaleShippingProgram, staff, budget=Decimal("100.00"))
    buyer, _ = make_buyer("marco")
    sellers = [make_user(f"seller{number}")[0] for number in range(3)]
    marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(sellers[0]), idempotency_key="sale")

    def grow(count):
        for number in range(count):
            make_listing(sellers[number % 3], title=f"Item {number}")

    queries = assert_constant_queries(gql, CARDS, {"first": 100}, None, grow, path=["listings"])
    assert queries == 3  # the listings with their banners, then their sellers and images
    banners = {
        edge["node"]["firstSaleShippingDiscount"] is None
        for edge in gql(CARDS, {"first": 100})["data"]["listings"]["edges"]
    }
    assert banners == {True, False}


def test_the_audit_list_runs_a_fixed_number_of_queries(gql, staff):
    def grow(count):
        for number in range(count):
            run_program(FirstSaleShippingProgram, staff, budget=Decimal(100 + number + ProgramChange.objects.count()))

    assert_constant_queries(gql, CHANGES, {"first": 100}, staff.token, grow, path=["programChanges"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_first_sales_never_overspend_a_nearly_spent_budget(
    staff, make_user, make_buyer, make_listing
):
    run_program(
        FirstSaleShippingProgram, staff, amount=Decimal("5.00"), per_order_cap=Decimal("5.00"), budget=Decimal("100.00")
    )
    FirstSaleShippingProgram.objects.update(spent=Decimal("80.00"))  # room for four more
    listings = [make_listing(make_user(f"seller{number}")[0]) for number in range(20)]
    buyers = [make_buyer(f"buyer{number}")[0] for number in range(20)]

    def purchase(buyer, listing, key="first-try"):
        def attempt():
            try:
                return marketplace_services.purchase_listing(buyer=buyer, listing=listing, idempotency_key=key)
            except ServiceError as refusal:
                return refusal.errors[0].code.value

        return attempt

    outcomes = race([purchase(buyer, listing) for buyer, listing in zip(buyers, listings, strict=False)])
    bought = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    assert len(bought) == 4 and sorted(set(outcomes) - set(bought)) == ["price_changed"]
    assert program().spent == program().budget == Decimal("100.00")
    assert sorted(ShippingSubsidy.objects.values_list("order_id", flat=True)) == sorted(order.pk for order in bought)
    for order in bought:
        assert order.discounts.get().amount == Decimal("5.00")
    unsold = Listing.objects.filter(status=Listing.Status.AVAILABLE)
    assert set(
        marketplace_selectors.listing_cards(unsold, None).values_list("first_sale_shipping_discount", flat=True)
    ) == {None}

    # Refused buyers try again: quoted without the discount now, they buy at full shipping.
    for buyer, listing, outcome in zip(buyers, listings, outcomes, strict=False):
        if not isinstance(outcome, Order):
            assert purchase(buyer, listing, key="second-try")().discount_total == Decimal("0.00")
    assert Order.objects.count() == 20 and ShippingSubsidy.objects.count() == 4
    assert program().spent == Decimal("100.00")
