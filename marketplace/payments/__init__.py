"""Payment providers: the interface (`base`), the dev provider that stands in for a card network
(`dev`, the embedded default) and Stripe (`stripe`). `settings.PAYMENT_PROVIDER` names the class
new payments go through; a payment is settled by the provider that authorized it.

Services call `payments.provider()` and catch the exceptions below; other apps talking to Stripe
(Connect payouts) build their client with `stripe_client()`.
"""

from marketplace.payments.base import (
    InvalidEvent,
    PaymentActionRequired,
    PaymentDeclined,
    PaymentProvider,
    PaymentSheet,
    PaymentUnavailable,
    ProviderEvent,
    provider,
)
from marketplace.payments.dev import DevPaymentProvider
from marketplace.payments.stripe import StripePaymentProvider, stripe_client

__all__ = [
    "InvalidEvent",
    "DevPaymentProvider",
    "PaymentActionRequired",
    "PaymentDeclined",
    "PaymentProvider",
    "PaymentSheet",
    "PaymentUnavailable",
    "ProviderEvent",
    "StripePaymentProvider",
    "provider",
    "stripe_client",
]
