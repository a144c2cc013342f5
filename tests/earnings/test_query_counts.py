"""The seller's lists run a fixed number of SQL queries whatever their length."""

import itertools
from decimal import Decimal

import pytest

from earnings.models import LedgerEntry, Payout
from tests.earnings.conftest import EARNINGS, buy
from tests.helpers import assert_constant_queries

pytestmark = pytest.mark.django_db

ROWS = itertools.count()


@pytest.fixture
def seller_with_a_sale(api, make_user, make_buyer, make_listing):
    seller, token = make_user("ava")
    _, buyer_token = make_buyer("marco")
    buy(api, buyer_token, make_listing(seller))
    return seller, token


def add_payouts(seller, count) -> list[Payout]:
    return Payout.objects.bulk_create(
        [
            Payout(seller=seller, currency="USD", amount=Decimal("1.00"), provider="dev", destination="acct")
            for _ in range(count)
        ]
    )


def test_the_entries_list_runs_a_fixed_number_of_queries(gql, seller_with_a_sale):
    seller, token = seller_with_a_sale
    order = seller.sales.get()
    payout = add_payouts(seller, 1)[0]
    LedgerEntry.objects.filter(seller=seller).delete()

    def grow(count):
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    seller=seller,
                    currency="USD",
                    kind=LedgerEntry.Kind.SALE,
                    amount=Decimal("1.00"),
                    state=LedgerEntry.State.PENDING,
                    key=f"test:{next(ROWS)}",
                    **({"order": order} if index % 2 else {"payout": payout}),
                )
                for index in range(count)
            ]
        )

    assert_constant_queries(gql, EARNINGS, {"first": 50}, token, grow, path=["earnings", "entries"])


def test_the_payouts_list_runs_a_fixed_number_of_queries(gql, seller_with_a_sale):
    seller, token = seller_with_a_sale
    assert_constant_queries(
        gql, EARNINGS, {"first": 50}, token, lambda count: add_payouts(seller, count), path=["earnings", "payouts"]
    )
