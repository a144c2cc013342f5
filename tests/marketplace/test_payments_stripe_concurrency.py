"""Real threads on PostgreSQL through Stripe's SDK and a fake Stripe: one item sold once, with
one PaymentIntent captured and every other released; a webhook delivered many times at once
applied once."""

import pytest
from django.test import Client

from marketplace.models import Listing, Order, Payment, ProcessedProviderEvent
from tests.conftest import GraphQLClient
from tests.fakes.stripe_api import WEBHOOK_SECRET, event, signed
from tests.helpers import gid, race
from tests.marketplace.checkout_api import PURCHASE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def intents(fake) -> list[dict]:
    return [thing for thing in fake.objects.values() if thing["object"] == "payment_intent"]


def test_twenty_buyers_racing_through_stripe_pay_once(stripe_api, make_user, make_buyer, make_listing):
    seller, _ = make_user("seller")
    listing = make_listing(seller)
    tokens = [make_buyer(f"buyer{index}")[1] for index in range(20)]

    def purchase(token, key):
        variables = {"input": {"listingId": gid(listing), "idempotencyKey": key, "paymentMethod": "pm_card_visa"}}
        return lambda: GraphQLClient()(PURCHASE, variables, token=token)["data"]["purchaseListing"]

    payloads = race([purchase(token, f"key-of-buyer-{index}") for index, token in enumerate(tokens)])
    assert sum(1 for payload in payloads if payload["order"]) == 1
    listing.refresh_from_db()
    assert (listing.status, Order.objects.count()) == (Listing.Status.SOLD, 1)
    payment = Payment.objects.get()
    statuses = sorted(intent["status"] for intent in intents(stripe_api))
    assert payment.status == Payment.Status.CAPTURED
    # Buyers who saw it sold before paying made no intent; every other hold was released.
    assert statuses == ["canceled"] * (len(statuses) - 1) + ["succeeded"]
    assert next(i for i in intents(stripe_api) if i["status"] == "succeeded")["id"] == payment.reference


def test_one_webhook_delivered_ten_times_at_once_is_applied_once(stripe_api, make_user, make_buyer, make_listing):
    seller, _ = make_user("seller")
    _, token = make_buyer("buyer")
    listing = make_listing(seller)
    variables = {
        "input": {"listingId": gid(listing), "idempotencyKey": "the-key-0001", "paymentMethod": "pm_card_visa"}
    }
    assert GraphQLClient()(PURCHASE, variables, token=token)["data"]["purchaseListing"]["errors"] == []
    (held,) = intents(stripe_api)
    body, header = signed(event(stripe_api, "payment_intent.succeeded", held), WEBHOOK_SECRET)

    def deliver():
        return Client().post(
            "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    assert {response.status_code for response in race([deliver] * 10)} == {200}
    assert ProcessedProviderEvent.objects.count() == 1
    assert Payment.objects.get().status == Payment.Status.CAPTURED
