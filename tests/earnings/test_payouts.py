"""Payouts through GraphQL: a seller connects a payout account, requests a payout of the whole
available balance, and it is sent once; a refused payout gives the money back; the schedule staff
set pays out by itself."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from earnings import services, tasks
from earnings.models import EarningsSettings, Payout
from tests.earnings.conftest import balance_of, buy, connect, earnings_of, entries_of, request_payout

pytestmark = pytest.mark.django_db


def inbox_titles(call, token):
    body = call("{ notifications(first: 10) { edges { node { kind title body } } } }", token=token)
    return [(edge["node"]["title"], edge["node"]["body"]) for edge in body["data"]["notifications"]["edges"]]


def payouts_of(call, token):
    return [edge["node"]["status"] for edge in earnings_of(call, token)["payouts"]["edges"]]


def test_connecting_creates_the_account_once_and_gives_a_fresh_link(api, make_user):
    seller, token = make_user("ava")
    first, again = connect(api, token), connect(api, token)
    assert first["errors"] == [] and first["onboardingUrl"].startswith("http://localhost:8000/payouts/connected?")
    assert again["onboardingUrl"] == first["onboardingUrl"]
    assert earnings_of(api, token)["payoutAccount"] is not None
    assert seller.payout_account.account_id.startswith("dev_acct_")


def test_a_payout_sends_the_whole_available_balance_and_it_goes_to_zero(api, seller_with_earnings, payout_provider):
    seller, token = seller_with_earnings
    connect(api, token)
    payload = request_payout(api, token, currency="usd")
    assert payload["errors"] == []
    assert payload["payout"]["status"] == "REQUESTED"  # sent once the request committed
    assert payouts_of(api, token) == ["PAID"]
    assert payload["payout"]["amount"] == {
        "amount": "40.00",
        "currency": "USD",
    }
    assert balance_of(api, token) == ("0.00", "0.00", "40.00")
    assert entries_of(api, token)[0] == ("PAYOUT", "AVAILABLE", "-40.00")
    payout = Payout.objects.get()
    assert payout_provider.transfers == [
        (seller.payout_account.account_id, Decimal("40.00"), "USD", f"payout:{payout.pk}")
    ]
    assert request_payout(api, token)["errors"] == [{"field": "currency", "code": "NOTHING_TO_PAY_OUT"}]
    assert ("Your payout is on its way", "40.00 USD to your account.") in inbox_titles(api, token)


def test_a_payout_needs_a_payout_account(api, seller_with_earnings):
    _, token = seller_with_earnings
    assert request_payout(api, token)["errors"] == [{"field": None, "code": "NO_PAYOUT_ACCOUNT"}]
    assert balance_of(api, token) == ("0.00", "40.00", "0.00")


def test_pending_money_is_not_paid_out(api, make_user, make_buyer, make_listing):
    seller, token = make_user("ava")
    _, buyer_token = make_buyer("marco")
    buy(api, buyer_token, make_listing(seller, price="25.00"))
    connect(api, token)
    assert request_payout(api, token)["errors"] == [{"field": "currency", "code": "NOTHING_TO_PAY_OUT"}]


def test_a_balance_below_the_minimum_waits(api, seller_with_earnings):
    _, token = seller_with_earnings
    EarningsSettings.objects.update_or_create(pk=1, defaults={"payout_minimum": Decimal("50.00")})
    connect(api, token)
    assert request_payout(api, token)["errors"] == [{"field": "currency", "code": "BELOW_PAYOUT_MINIMUM"}]


def test_a_refused_payout_fails_and_gives_the_money_back(api, seller_with_earnings, payout_provider):
    seller, token = seller_with_earnings
    connect(api, token)
    payout_provider.refuse.add(seller.payout_account.account_id)
    request_payout(api, token)
    payout = earnings_of(api, token)["payouts"]["edges"][0]["node"]
    assert (payout["status"], payout["failure"]) == ("FAILED", "This account cannot receive payouts yet.")
    assert balance_of(api, token) == ("0.00", "40.00", "0.00")
    assert entries_of(api, token)[:2] == [("REVERSAL", "AVAILABLE", "40.00"), ("PAYOUT", "AVAILABLE", "-40.00")]
    assert (
        "Your payout could not be sent",
        "This account cannot receive payouts yet. The amount is back in your balance.",
    ) in inbox_titles(api, token)


def test_a_payout_is_sent_once_however_often_its_task_runs(api, seller_with_earnings, payout_provider):
    _, token = seller_with_earnings
    connect(api, token)
    request_payout(api, token)
    payout = Payout.objects.get()
    for _ in range(3):
        tasks.send_payout(payout.pk)
    assert len(payout_provider.transfers) == 1


def test_the_sweep_sends_a_payout_whose_worker_died_with_the_same_key(api, seller_with_earnings, payout_provider):
    _, token = seller_with_earnings
    connect(api, token)
    request_payout(api, token)
    payout = Payout.objects.get()
    Payout.objects.filter(pk=payout.pk).update(
        status=Payout.Status.SENDING, updated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    tasks.sweep_payouts()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert [transfer[3] for transfer in payout_provider.transfers] == [f"payout:{payout.pk}"] * 2


@pytest.mark.parametrize(
    ("schedule", "weekday", "paid"),
    [("manual", 0, False), ("daily", 0, True), ("weekly", 1, True), ("weekly", 2, False)],
)
def test_the_schedule_pays_out_connected_sellers_on_its_days(
    api, seller_with_earnings, django_capture_on_commit_callbacks, schedule, weekday, paid
):
    _, token = seller_with_earnings
    connect(api, token)
    EarningsSettings.objects.update_or_create(pk=1, defaults={"payout_schedule": schedule, "payout_weekday": weekday})
    tuesday = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        requested = services.scheduled_payouts(now=tuesday)
    assert requested == int(paid)
    assert balance_of(api, token) == ("0.00", "0.00", "40.00") if paid else ("0.00", "40.00", "0.00")


def test_bad_input_changes_nothing(api, seller_with_earnings):
    _, token = seller_with_earnings
    assert connect(api, token, country="United States")["errors"] == [{"field": "country", "code": "INVALID"}]
    assert request_payout(api, token, currency="")["errors"] == [{"field": None, "code": "NO_PAYOUT_ACCOUNT"}]
    assert Payout.objects.count() == 0
