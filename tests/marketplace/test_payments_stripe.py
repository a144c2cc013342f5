"""Card payments through Stripe: the official SDK against a local fake of Stripe's API, driven
through GraphQL and the webhook endpoint as the buyer's app and Stripe would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import checks, services, tasks
from marketplace.models import Order, Payment, PaymentCustomer, ProcessedProviderEvent
from tests.fakes.stripe_api import WEBHOOK_SECRET, event, signed
from tests.helpers import gid
from tests.marketplace.checkout_api import ORDER, make_offer, money, respond

pytestmark = pytest.mark.django_db

PURCHASE = f"""mutation($input: PurchaseListingInput!) {{
  purchaseListing(input: $input) {{ order {ORDER} errors {{ field code message clientSecret }} }} }}"""
SHEET = """mutation { preparePaymentSheet {
  paymentSheet { customer ephemeralKeySecret publishableKey } errors { field code } } }"""
VISA, THREE_D_SECURE, DECLINED = "pm_card_visa", "pm_card_threeDSecure2Required", "pm_card_chargeDeclined"


@pytest.fixture
def shop(make_user, make_buyer, make_listing):
    """(buyer, buyer token, a 25.00 listing: 31.49 with its label)."""
    seller, _ = make_user("ava")
    buyer, token = make_buyer("marco")
    return buyer, token, make_listing(seller)


def buy(gql, token, listing, payment_method=VISA, key="purchase-key-1"):
    variables = {"input": {"listingId": gid(listing), "idempotencyKey": key, "paymentMethod": payment_method}}
    return gql(PURCHASE, variables, token=token)["data"]["purchaseListing"]


def intent(fake) -> dict:
    (only,) = [thing for thing in fake.objects.values() if thing["object"] == "payment_intent"]
    return only


def test_a_purchase_holds_the_orders_amount_on_the_buyers_customer_and_captures_after_commit(
    gql, stripe_api, shop, django_capture_on_commit_callbacks
):
    buyer, token, listing = shop
    with django_capture_on_commit_callbacks(execute=True):
        payload = buy(gql, token, listing)
    assert payload["errors"] == [] and payload["order"]["total"] == money("31.49")
    held = intent(stripe_api)
    customer = PaymentCustomer.objects.get(user=buyer).reference
    assert (held["amount"], held["currency"], held["capture_method"], held["customer"]) == (
        3149,
        "usd",
        "manual",
        customer,
    )
    assert held["status"] == "succeeded" and held["amount_received"] == 3149
    payment = Payment.objects.get()
    assert (payment.reference, payment.status) == (held["id"], Payment.Status.CAPTURED)
    # A second purchase reuses the customer; a retry of the first returns its order, charging nothing.
    assert buy(gql, token, listing) == {**payload}
    assert stripe_api.calls("POST").count("POST /v1/customers") == 1


def test_3d_secure_is_required_then_completed_with_the_same_key(
    gql, stripe_api, shop, django_capture_on_commit_callbacks
):
    _, token, listing = shop
    challenged = buy(gql, token, listing, THREE_D_SECURE)
    held = intent(stripe_api)
    assert challenged == {
        "order": None,
        "errors": [
            {
                "field": None,
                "code": "PAYMENT_ACTION_REQUIRED",
                "message": "Confirm the payment with your bank, then try again.",
                "clientSecret": held["client_secret"],
            }
        ],
    }
    assert (Order.objects.count(), Payment.objects.count(), held["status"]) == (0, 0, "requires_action")
    stripe_api.complete_action(held["id"])  # the payment sheet ran the challenge
    with django_capture_on_commit_callbacks(execute=True):
        payload = buy(gql, token, listing, THREE_D_SECURE)
    assert payload["errors"] == [] and payload["order"]["status"] == "PAID"
    assert Payment.objects.get().reference == held["id"]  # the same PaymentIntent, now captured
    assert intent(stripe_api)["status"] == "succeeded"


def test_a_declined_card_is_a_typed_error_with_stripes_message_and_changes_nothing(gql, stripe_api, shop):
    _, token, listing = shop
    assert buy(gql, token, listing, DECLINED)["errors"] == [
        {"field": None, "code": "PAYMENT_DECLINED", "message": "Your card was declined.", "clientSecret": None}
    ]
    listing.refresh_from_db()
    assert (Order.objects.count(), Payment.objects.count(), listing.quantity) == (0, 0, 1)
    # Another card, under a new key, buys it.
    assert buy(gql, token, listing, VISA, key="purchase-key-2")["errors"] == []


def test_the_payment_sheet_gets_the_buyers_customer_an_ephemeral_key_and_the_publishable_key(gql, stripe_api, shop):
    buyer, token, _ = shop
    sheet = gql(SHEET, token=token)["data"]["preparePaymentSheet"]
    customer = PaymentCustomer.objects.get(user=buyer).reference
    assert sheet["errors"] == []
    assert sheet["paymentSheet"]["customer"] == customer
    assert sheet["paymentSheet"]["ephemeralKeySecret"].startswith("ek_test_")
    assert sheet["paymentSheet"]["publishableKey"] == "pk_test_closetline"
    assert gql(SHEET)["data"]["preparePaymentSheet"]["errors"] == [{"field": None, "code": "UNAUTHENTICATED"}]


def test_a_cancelled_order_releases_the_hold(gql, stripe_api, shop, django_capture_on_commit_callbacks):
    buyer, token, listing = shop
    with django_capture_on_commit_callbacks(execute=False):  # the capture has not run yet
        buy(gql, token, listing)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=Order.objects.get(), actor=buyer)
    assert intent(stripe_api)["status"] == "canceled"
    assert Payment.objects.get().status == Payment.Status.VOIDED


def test_a_refund_after_delivery_refunds_the_charge(gql, stripe_api, shop, django_capture_on_commit_callbacks):
    _, token, listing = shop
    with django_capture_on_commit_callbacks(execute=True):
        buy(gql, token, listing)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.DELIVERED, delivered_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order=order, actor=None, reason="Not as described.")
    charge = stripe_api.objects[intent(stripe_api)["latest_charge"]]
    assert (charge["amount_refunded"], charge["refunded"]) == (3149, True)
    assert Payment.objects.get().status == Payment.Status.REFUNDED


# Webhooks -------------------------------------------------------------------------------------


def post_webhook(client, payload, secret=WEBHOOK_SECRET, signature=None):
    body, header = signed(payload, secret)
    return client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature or header
    )


@pytest.fixture
def held_payment(gql, stripe_api, shop, django_capture_on_commit_callbacks):
    """A purchase whose capture task has not run: its Payment AUTHORIZED, its intent requires_capture."""
    _, token, listing = shop
    with django_capture_on_commit_callbacks(execute=False):
        buy(gql, token, listing)
    return Payment.objects.get()


def test_a_webhook_with_a_wrong_or_missing_signature_is_refused_and_changes_nothing(
    client, settings, stripe_api, held_payment
):
    succeeded = event(stripe_api, "payment_intent.succeeded", {**intent(stripe_api), "status": "succeeded"})
    assert post_webhook(client, succeeded, secret="whsec_someone_else").status_code == 400
    assert post_webhook(client, succeeded, signature="t=1,v1=00").status_code == 400
    body, _ = signed(succeeded, WEBHOOK_SECRET)
    assert client.post("/webhooks/stripe/", data=body, content_type="application/json").status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = ""  # not configured: nobody's signature holds, not even an empty key's
    assert post_webhook(client, succeeded, secret="").status_code == 400
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED
    assert not ProcessedProviderEvent.objects.exists()


def test_a_failed_payment_event_keeps_the_providers_message_and_moves_nothing(client, stripe_api, held_payment):
    failure = {"type": "card_error", "code": "card_declined", "message": "Your card has insufficient funds."}
    failed = event(stripe_api, "payment_intent.payment_failed", {**intent(stripe_api), "last_payment_error": failure})
    assert post_webhook(client, failed).status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.detail) == (Payment.Status.AUTHORIZED, "Your card has insufficient funds.")


def test_a_webhook_brings_the_payment_in_line_once_and_a_replay_changes_nothing(
    client, stripe_api, held_payment, django_capture_on_commit_callbacks
):
    stripe_api.objects[held_payment.reference].update(status="succeeded")  # captured from the dashboard
    succeeded = event(stripe_api, "payment_intent.succeeded", intent(stripe_api))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(client, succeeded).status_code == 200
    assert Payment.objects.get().status == Payment.Status.CAPTURED
    Payment.objects.update(status=Payment.Status.AUTHORIZED)  # were it applied again, it would show
    assert post_webhook(client, succeeded).status_code == 200
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED
    assert ProcessedProviderEvent.objects.count() == 1


def test_stale_or_reordered_webhooks_never_move_a_payment_backwards(
    client, stripe_api, held_payment, django_capture_on_commit_callbacks
):
    authorized = event(stripe_api, "payment_intent.amount_capturable_updated", intent(stripe_api))
    with django_capture_on_commit_callbacks(execute=True):
        services.settle_payment(payment_id=held_payment.pk)  # captured
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.DELIVERED)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order=order, actor=None, reason="Damaged.")
    charge = stripe_api.objects[intent(stripe_api)["latest_charge"]]
    refunded = event(stripe_api, "charge.refunded", charge)
    succeeded = event(stripe_api, "payment_intent.succeeded", intent(stripe_api))
    for late in (refunded, succeeded, authorized):  # delivered late, and out of order
        assert post_webhook(client, late).status_code == 200
    assert Payment.objects.get().status == Payment.Status.REFUNDED


def test_a_webhook_about_an_unknown_object_is_ignored(client, stripe_api, held_payment):
    stranger = {**intent(stripe_api), "id": "pi_not_ours"}
    for unknown in (
        event(stripe_api, "payment_intent.succeeded", stranger),
        event(stripe_api, "customer.created", {"id": "cus_x", "object": "customer"}),
    ):
        assert post_webhook(client, unknown).status_code == 200
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED
    assert not ProcessedProviderEvent.objects.exists()


def test_a_webhook_of_a_cancelled_intent_voids_the_payment(
    client, stripe_api, held_payment, django_capture_on_commit_callbacks
):
    stripe_api.objects[held_payment.reference].update(status="canceled")  # the hold expired
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, event(stripe_api, "payment_intent.canceled", intent(stripe_api)))
    assert Payment.objects.get().status == Payment.Status.VOIDED


# Faults ---------------------------------------------------------------------------------------


def test_a_capture_whose_answer_is_lost_is_finished_by_the_sweep(stripe_api, held_payment):
    stripe_api.stall(f"/v1/payment_intents/{held_payment.reference}/capture")
    with pytest.raises(Exception):  # noqa: B017 - the task fails; Celery would retry it
        tasks.settle_payment(held_payment.pk)
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED  # back where a retry starts
    assert intent(stripe_api)["status"] == "succeeded"  # but Stripe did capture it
    tasks.sweep_checkout()
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED  # too recent to be stalled
    Payment.objects.update(updated_at=timezone.now() - timedelta(minutes=10))
    tasks.sweep_checkout()
    assert Payment.objects.get().status == Payment.Status.CAPTURED
    assert stripe_api.calls().count(f"POST /v1/payment_intents/{held_payment.reference}/capture") == 1


def test_an_authorization_whose_answer_is_lost_is_a_typed_error_and_a_retry_completes_it(
    gql, stripe_api, shop, django_capture_on_commit_callbacks
):
    _, token, listing = shop
    stripe_api.stall("/v1/payment_intents")
    assert buy(gql, token, listing)["errors"] == [
        {
            "field": None,
            "code": "PAYMENT_UNAVAILABLE",
            "message": "The payment could not be completed just now; try again.",
            "clientSecret": None,
        }
    ]
    assert Order.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert buy(gql, token, listing)["errors"] == []
    assert Payment.objects.get().reference == intent(stripe_api)["id"]  # one PaymentIntent, replayed


def test_the_deploy_check_names_the_stripe_settings_missing(settings):
    settings.PAYMENT_PROVIDER = "marketplace.payments.StripePaymentProvider"
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_live_x", "", ""
    errors = checks.stripe_configured(None)
    assert [error.msg.split(" ")[0] for error in errors] == ["STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"]
    assert checks.real_payment_provider(None) == []


@pytest.mark.parametrize(
    "earlier_card, accepted",
    [(VISA, True), (None, False), (THREE_D_SECURE, False)],  # a card saved; none; one that needs the buyer there
)
def test_an_accepted_offer_is_charged_off_session_to_the_buyers_saved_card(
    gql, stripe_api, make_user, make_buyer, make_listing, django_capture_on_commit_callbacks, earlier_card, accepted
):
    seller, seller_token = make_user("ava")
    buyer, token = make_buyer("marco")
    if earlier_card:  # an earlier purchase at checkout saved the card
        earlier = make_listing(seller)
        if earlier_card == THREE_D_SECURE:
            buy(gql, token, earlier, earlier_card)
            stripe_api.complete_action(intent(stripe_api)["id"])
        with django_capture_on_commit_callbacks(execute=True):
            assert buy(gql, token, earlier, earlier_card)["errors"] == []
    jacket = make_listing(seller, title="Denim jacket", price="40.00")
    offer_id = make_offer(gql, token, "30", listing=jacket)["offer"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        payload = respond(gql, seller_token, offer_id, "ACCEPT")
    orders = Order.objects.filter(lines__listing=jacket)
    if accepted:
        assert payload["errors"] == [] and payload["offer"]["status"] == "ACCEPTED"
        charged = stripe_api.objects[orders.get().payments.get().reference]
        assert (charged["amount"], charged["status"], charged["customer"]) == (
            3649,
            "succeeded",
            earlier_customer(buyer),
        )
    else:
        assert payload["errors"] == [{"field": None, "code": "PAYMENT_DECLINED"}]
        assert not orders.exists()


def earlier_customer(buyer) -> str:
    return PaymentCustomer.objects.get(user=buyer).reference


def test_a_hold_no_order_came_of_is_released_after_an_hour(
    gql, stripe_api, shop, make_listing, django_capture_on_commit_callbacks
):
    _, token, listing = shop
    with django_capture_on_commit_callbacks(execute=True):
        buy(gql, token, listing)  # a hold with its order
    stranded = buy(
        gql, token, make_listing(listing.seller), THREE_D_SECURE, key="purchase-key-2"
    )  # the app never came back
    assert stranded["errors"][0]["code"] == "PAYMENT_ACTION_REQUIRED"
    orphan = next(thing for thing in stripe_api.objects.values() if thing.get("status") == "requires_action")
    stripe_api.complete_action(orphan["id"])
    assert tasks.release_orphaned_holds() == 0  # the app may still retry
    for thing in stripe_api.objects.values():
        if thing["object"] == "payment_intent":
            thing["created"] -= 3601
    assert tasks.release_orphaned_holds() == 1
    assert orphan["status"] == "canceled"
    assert Payment.objects.get().status == Payment.Status.CAPTURED
