"""Card payments through Stripe (the official SDK): a manual-capture PaymentIntent per purchase,
confirmed server side with what the buyer's payment sheet collected (deferred-intent flow), on
the buyer's Stripe customer (created once, kept in PaymentCustomer).

A purchase made while the buyer is away (an offer the seller accepts, an auction won) is charged
off session to the card their last purchase saved.

3-D Secure: an intent that `requires_action` is left as it is and its client secret goes to the
app, which completes the challenge and retries the purchase with the same idempotency key; Stripe
replays the intent it created, and its current status (retrieved) lets the purchase complete.
"""

from datetime import timedelta
from decimal import Decimal
from functools import cache

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from marketplace.models import Payment, PaymentCustomer
from marketplace.payments.base import (
    InvalidEvent,
    PaymentActionRequired,
    PaymentDeclined,
    PaymentProvider,
    PaymentSheet,
    PaymentUnavailable,
    ProviderEvent,
)

PROVIDER = "marketplace.payments.StripePaymentProvider"
# Stripe's objects in the versions this module was written for (the ephemeral key names its version).
API_VERSION = stripe.api_version

HOLD_LIFETIME = timedelta(days=7)
# Where a PaymentIntent's status puts our payment (others: nothing to move).
INTENT_STATUS = {
    "requires_capture": Payment.Status.AUTHORIZED,
    "succeeded": Payment.Status.CAPTURED,
    "canceled": Payment.Status.VOIDED,
}
# Webhook event types → where they say the payment is; a payment_failed only brings its message.
EVENT_STATUS = {
    "payment_intent.amount_capturable_updated": Payment.Status.AUTHORIZED,
    "payment_intent.succeeded": Payment.Status.CAPTURED,
    "payment_intent.canceled": Payment.Status.VOIDED,
    "payment_intent.payment_failed": None,
    "charge.refunded": Payment.Status.REFUNDED,
}
# Currencies Stripe counts in whole units (no cents).
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


def stripe_client() -> stripe.StripeClient:
    """A client for the configured account (STRIPE_API_BASE points it at a local fake in tests)."""
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_TIMEOUT,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


@cache
def _client(secret_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base},
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def minor_units(amount: Decimal, currency: str) -> int:
    return int(amount if currency.lower() in ZERO_DECIMAL else amount * 100)


class StripePaymentProvider(PaymentProvider):
    def authorize(self, *, amount, currency, idempotency_key, buyer, payment_method=None):
        params = {
            "amount": minor_units(amount, currency),
            "currency": currency.lower(),
            "customer": self._customer(buyer),
            "capture_method": "manual",
            "metadata": {"buyer_id": str(buyer.pk)},
        }
        if payment_method:  # the buyer is paying now: the card is kept for their later off-session charges
            method_kind = "confirmation_token" if payment_method.startswith("ctoken_") else "payment_method"
            params |= {"confirm": True, method_kind: payment_method, "setup_future_usage": "off_session"}
        else:  # charged while away (an offer accepted, an auction won): their last saved card
            params |= {"confirm": True, "off_session": True, "payment_method": self._saved_card(params["customer"])}
        intent = _call(lambda client: client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key}))
        if intent.status == "requires_action":  # replayed as created: the challenge may be done now
            intent = _call(lambda client: client.v1.payment_intents.retrieve(intent.id))
        if intent.status == "requires_capture":
            return intent.id
        if intent.status == "requires_action" and payment_method:  # only the buyer, at checkout, can answer it
            raise PaymentActionRequired(intent.client_secret)
        error = intent.last_payment_error
        raise PaymentDeclined(error.message if error and error.message else "The card was not accepted.")

    def capture(self, *, reference, amount, idempotency_key):
        currency = _call(lambda client: client.v1.payment_intents.retrieve(reference)).currency
        _call(
            lambda client: client.v1.payment_intents.capture(
                reference, {"amount_to_capture": minor_units(amount, currency)}, {"idempotency_key": idempotency_key}
            )
        )

    def void(self, *, reference, idempotency_key):
        _call(lambda client: client.v1.payment_intents.cancel(reference, {}, {"idempotency_key": idempotency_key}))

    def refund(self, *, reference, amount, idempotency_key):
        currency = _call(lambda client: client.v1.payment_intents.retrieve(reference)).currency
        _call(
            lambda client: client.v1.refunds.create(
                {"payment_intent": reference, "amount": minor_units(amount, currency)},
                {"idempotency_key": idempotency_key},
            )
        )

    def payment_sheet(self, *, buyer):
        customer = self._customer(buyer)
        key = _call(
            lambda client: client.v1.ephemeral_keys.create({"customer": customer}, {"stripe_version": API_VERSION})
        )
        return PaymentSheet(
            customer=customer, ephemeral_key_secret=key.secret, publishable_key=settings.STRIPE_PUBLISHABLE_KEY
        )

    def status(self, *, reference):
        intent = _call(lambda client: client.v1.payment_intents.retrieve(reference, {"expand": ["latest_charge"]}))
        charge = intent.latest_charge
        if intent.status == "succeeded" and charge is not None and not isinstance(charge, str) and charge.refunded:
            return Payment.Status.REFUNDED
        return INTENT_STATUS.get(intent.status)

    def holds(self, *, created_before):
        # A hold lapses at Stripe after 7 days: older intents need no release.
        window = {"lt": int(created_before.timestamp()), "gte": int((created_before - HOLD_LIFETIME).timestamp())}
        return _call(
            lambda client: [
                intent.id
                for intent in client.v1.payment_intents.list({"created": window, "limit": 100}).auto_paging_iter()
                if intent.status == "requires_capture"
            ]
        )

    def parse_event(self, *, payload, signature):
        if not settings.STRIPE_WEBHOOK_SECRET:  # an empty secret would verify anyone's signature
            raise InvalidEvent("STRIPE_WEBHOOK_SECRET is not set.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        except (ValueError, stripe.SignatureVerificationError) as refused:
            raise InvalidEvent(str(refused)) from None
        thing = event.data.object.to_dict()
        if event.type not in EVENT_STATUS or thing.get("object") not in ("payment_intent", "charge"):
            return ProviderEvent(id=event.id, type=event.type, reference=None, status=None)
        reference = thing.get("id") if thing.get("object") == "payment_intent" else thing.get("payment_intent")
        status = EVENT_STATUS[event.type]
        if event.type == "charge.refunded" and not thing.get("refunded"):
            status = None  # a partial refund: the payment is not refunded yet
        error = thing.get("last_payment_error") or {}
        return ProviderEvent(
            id=event.id, type=event.type, reference=reference, status=status, detail=(error.get("message") or "")[:200]
        )

    def _saved_card(self, customer: str) -> str:
        cards = _call(lambda client: client.v1.payment_methods.list({"customer": customer, "type": "card", "limit": 1}))
        if not cards.data:
            raise PaymentDeclined("Add a card at checkout first: there is no saved card to charge.")
        return cards.data[0].id

    def _customer(self, buyer) -> str:
        """The buyer's Stripe customer, created once (an idempotency key per member guards a race)."""
        known = (
            PaymentCustomer.objects.filter(user=buyer, provider=PROVIDER).values_list("reference", flat=True).first()
        )
        if known:
            return known
        customer = _call(
            lambda client: client.v1.customers.create(
                {"email": buyer.email, "metadata": {"user_id": str(buyer.pk)}},
                {"idempotency_key": f"customer:{buyer.pk}"},
            )
        )
        try:
            with transaction.atomic():
                PaymentCustomer.objects.create(user=buyer, provider=PROVIDER, reference=customer.id)
        except IntegrityError:
            pass  # a concurrent purchase stored it: the same customer (same idempotency key)
        return customer.id


def _call(request):
    """Run one SDK call: a card refusal is PaymentDeclined, not reaching Stripe PaymentUnavailable."""
    try:
        return request(stripe_client())
    except stripe.CardError as refused:
        raise PaymentDeclined(refused.user_message or "The card was declined.") from None
    except stripe.IdempotencyError:
        raise PaymentDeclined("This payment was started with other details: start again with a new key.") from None
    except stripe.InvalidRequestError:
        raise PaymentDeclined("The payment details were not accepted.") from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as lost:
        raise PaymentUnavailable(str(lost)) from lost
