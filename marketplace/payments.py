"""The payment provider interface, and the dev/test provider that stands in for a card network.

`settings.PAYMENT_PROVIDER` names the provider class (a dotted path). A real one (Stripe, Adyen,
Braintree...) implements the four calls below over its API:

    authorize(amount, currency, idempotency_key) -> reference   hold the buyer's money
    capture(reference, amount, idempotency_key)                  take what was held
    void(reference, idempotency_key)                             release a hold never captured
    refund(reference, amount, idempotency_key)                   give captured money back

Each call may be retried with the same idempotency key without acting twice, raises
`PaymentDeclined` for an answer shown to the buyer (card declined, insufficient funds), and any
other exception for a failure to reach the provider. Services call providers outside row locks:
authorize before the stock transaction, capture after commit (marketplace.services).
"""

import uuid
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentDeclined(Exception):
    """The provider refused; the message may be shown to the buyer."""


class PaymentProvider:
    def authorize(self, *, amount: Decimal, currency: str, idempotency_key: str) -> str:
        raise NotImplementedError

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        raise NotImplementedError

    def void(self, *, reference: str, idempotency_key: str) -> None:
        raise NotImplementedError

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        raise NotImplementedError


class DevPaymentProvider(PaymentProvider):
    """Approves everything without a card network, except amounts ending in .13, which it declines
    (like a card network's test card numbers: `make run` and tests can reach the decline path)."""

    DECLINED_CENTS = 13

    def authorize(self, *, amount, currency, idempotency_key):
        if int(amount * 100) % 100 == self.DECLINED_CENTS:
            raise PaymentDeclined("The card was declined.")
        return f"dev_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"

    def capture(self, *, reference, amount, idempotency_key):
        pass

    def void(self, *, reference, idempotency_key):
        pass

    def refund(self, *, reference, amount, idempotency_key):
        pass


def provider(path: str | None = None) -> PaymentProvider:
    """The configured provider, or the one at `path` (a payment is settled by whoever authorized it)."""
    return _load(path or settings.PAYMENT_PROVIDER)


@cache
def _load(path: str) -> PaymentProvider:
    return import_string(path)()
