"""Payouts through Stripe Connect: the official SDK against a local fake of Stripe's API
(tests/fakes/stripe_connect.py), through GraphQL: an Express account opened once with its
onboarding link, the whole balance transferred once, a refused transfer reversed, Stripe out of
reach a typed error, a lost answer sent again with the same idempotency key."""

from datetime import UTC, datetime

import pytest
import stripe

from earnings import tasks
from earnings.models import Payout
from tests.earnings.conftest import balance_of, connect, earnings_of, entries_of, request_payout
from tests.fakes.stripe_connect import complete_onboarding, fund, transfers

pytestmark = pytest.mark.django_db


def connected(api, token, fake):
    """Connect, and play the seller finishing Stripe's onboarding; the account id."""
    payload = connect(api, token)
    assert payload["errors"] == []
    (account,) = [thing for thing in fake.objects.values() if thing["object"] == "account"]
    complete_onboarding(fake, account["id"])
    return account["id"]


def test_connecting_opens_one_express_account_and_returns_stripes_onboarding_link(api, make_user, stripe_connect):
    _, token = make_user("ava")
    first, again = connect(api, token), connect(api, token)
    assert first["errors"] == again["errors"] == []
    assert first["onboardingUrl"].startswith("https://connect.stripe.com/setup/e/acct_")
    assert again["onboardingUrl"] != first["onboardingUrl"]  # a link expires: each call makes a new one
    assert stripe_connect.calls("POST").count("POST /v1/accounts") == 1
    (account,) = [thing for thing in stripe_connect.objects.values() if thing["object"] == "account"]
    assert (account["type"], account["email"], account["country"]) == ("express", "ava@example.com", "US")


def test_a_payout_transfers_the_whole_available_balance_once(api, seller_with_earnings, stripe_connect, settings):
    _, token = seller_with_earnings
    account_id = connected(api, token, stripe_connect)
    fund(stripe_connect, 10_000)
    assert request_payout(api, token)["errors"] == []
    payout = Payout.objects.get()
    assert (payout.status, payout.reference) == (Payout.Status.PAID, transfers(stripe_connect)[0]["id"])
    assert balance_of(api, token) == ("0.00", "0.00", "40.00")
    # Stripe's records, read through the SDK: one transfer of 40.00 to the seller, the platform's balance down by it.
    client = stripe.StripeClient("sk_test_closetline", base_addresses={"api": settings.STRIPE_API_BASE})
    listed = client.transfers.list(params={"destination": account_id}).data
    assert [(each.amount, each.currency) for each in listed] == [(4000, "usd")]
    assert client.balance.retrieve().available[0].amount == 6000
    assert request_payout(api, token)["errors"] == [{"field": "currency", "code": "NOTHING_TO_PAY_OUT"}]


def test_a_transfer_stripe_refuses_fails_the_payout_and_gives_the_money_back(
    api,
    seller_with_earnings,
    stripe_connect,
):
    _, token = seller_with_earnings
    connect(api, token)  # onboarding never finished: the account cannot receive transfers
    fund(stripe_connect, 10_000)
    request_payout(api, token)
    payout = earnings_of(api, token)["payouts"]["edges"][0]["node"]
    assert payout["status"] == "FAILED" and "capabilities" in payout["failure"]
    assert balance_of(api, token) == ("0.00", "40.00", "0.00")
    assert entries_of(api, token)[0] == ("REVERSAL", "AVAILABLE", "40.00")


def test_stripe_out_of_reach_is_a_typed_error(api, make_user, stripe_connect, settings):
    _, token = make_user("ava")
    settings.STRIPE_API_BASE = "http://127.0.0.1:8159"  # nothing listens there
    assert connect(api, token)["errors"] == [{"field": None, "code": "PAYOUT_PROVIDER_UNAVAILABLE"}]
    assert earnings_of(api, token)["payoutAccount"] is None


def test_a_transfer_whose_answer_was_lost_is_sent_again_with_its_key_and_made_once(
    api,
    seller_with_earnings,
    stripe_connect,
):
    _, token = seller_with_earnings
    connected(api, token, stripe_connect)
    fund(stripe_connect, 10_000)
    stripe_connect.stall("/v1/transfers")  # Stripe makes it, the answer comes after the SDK gave up
    request_payout(api, token)
    payout = Payout.objects.get()
    assert payout.status == Payout.Status.REQUESTED  # back where the sweep takes it
    Payout.objects.filter(pk=payout.pk).update(updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    tasks.sweep_payouts()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert len(transfers(stripe_connect)) == 1 and payout.reference == transfers(stripe_connect)[0]["id"]
    assert balance_of(api, token) == ("0.00", "0.00", "40.00")
