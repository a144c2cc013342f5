"""The payment provider interface. A provider implements these calls over its API:

    authorize(amount, currency, idempotency_key, buyer, payment_method) -> reference
                                                  hold the buyer's money (confirmed server side)
    capture(reference, amount, idempotency_key)  take what was held
    void(reference, idempotency_key)             release a hold never captured
    refund(reference, amount, idempotency_key)   give captured money back
    payment_sheet(buyer) -> PaymentSheet         what the buyer's app needs to collect a card
    status(reference) -> Payment.Status | None   where the provider says the payment is (the sweep)
    holds(created_before) -> [reference]         authorizations still held, made before then
    parse_event(payload, signature) -> ProviderEvent   a verified webhook notification

Each call may be retried with the same idempotency key without acting twice. `PaymentDeclined`
is an answer shown to the buyer (card declined, insufficient funds), `PaymentActionRequired` asks
the buyer's app to authenticate the card (3-D Secure) and retry, `PaymentUnavailable` says the
provider was not reached or did not answer (the same call may be tried again). Services call
providers outside row locks: authorize before the stock transaction, the rest after commit.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentDeclined(Exception):
    """The provider refused; the message may be shown to the buyer."""


class PaymentActionRequired(Exception):
    """The card needs the buyer's authentication: the app completes it with `client_secret`."""

    def __init__(self, client_secret: str):
        super().__init__("The card needs authenticating.")
        self.client_secret = client_secret


class PaymentUnavailable(Exception):
    """The provider was not reached, or its answer was lost: try again with the same key."""


class InvalidEvent(Exception):
    """A webhook body that is not signed by the provider, or not readable."""


@dataclass(frozen=True)
class PaymentSheet:
    customer: str
    ephemeral_key_secret: str
    publishable_key: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified notification: its id (processed once), the payment reference it is about (None:
    not a payment), where it says the payment is (a Payment.Status, or None: nothing to move) and
    the provider's message on a failure."""

    id: str
    type: str
    reference: str | None
    status: str | None
    detail: str = ""


class PaymentProvider:
    def authorize(
        self, *, amount: Decimal, currency: str, idempotency_key: str, buyer, payment_method: str | None = None
    ) -> str:
        raise NotImplementedError

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        raise NotImplementedError

    def void(self, *, reference: str, idempotency_key: str) -> None:
        raise NotImplementedError

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        raise NotImplementedError

    def payment_sheet(self, *, buyer) -> PaymentSheet:
        raise NotImplementedError

    def status(self, *, reference: str) -> str | None:
        return None  # a provider that cannot be asked: the payment rows are the truth

    def holds(self, *, created_before: datetime) -> list[str]:
        return []  # one that cannot list its holds lets them lapse

    def parse_event(self, *, payload: bytes, signature: str) -> ProviderEvent:
        raise InvalidEvent("This provider sends no webhooks.")


def provider(path: str | None = None) -> PaymentProvider:
    """The configured provider, or the one at `path` (a payment is settled by whoever authorized it)."""
    return _load(path or settings.PAYMENT_PROVIDER)


@cache
def _load(path: str) -> PaymentProvider:
    return import_string(path)()
