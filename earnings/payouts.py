"""The payout provider interface, the dev provider, and Stripe Connect.

`settings.PAYOUT_PROVIDER` names the provider class (a dotted path). A provider implements:

    create_account(email, country, idempotency_key) -> account id   a connected account, once
    onboarding_link(account_id) -> url                                 where the seller completes it
    transfer(account_id, amount, currency, idempotency_key) -> ref     send money to the account

Each call may be retried with the same idempotency key without acting twice, raises
`PayoutRefused` for a definitive refusal (the account cannot receive it), and `PayoutUnavailable`
(or any other exception) for a failure to reach the provider: the caller retries with the same key.
"""

import uuid
from contextlib import contextmanager
from decimal import Decimal
from functools import cache

import stripe
from django.conf import settings
from django.utils.module_loading import import_string

from marketplace.payments.stripe import minor_units, stripe_client


class PayoutRefused(Exception):
    """The provider refused the payout; the message may be shown to the seller."""


class PayoutUnavailable(Exception):
    """The provider could not be reached or answered with an error: try again later."""


class PayoutProvider:
    def create_account(self, *, email: str, country: str, idempotency_key: str) -> str:
        raise NotImplementedError

    def onboarding_link(self, *, account_id: str) -> str:
        raise NotImplementedError

    def transfer(self, *, account_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        raise NotImplementedError


class DevPayoutProvider(PayoutProvider):
    """Pays without a bank: accounts and transfers are names derived from their idempotency keys."""

    def create_account(self, *, email, country, idempotency_key):
        return f"dev_acct_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"

    def onboarding_link(self, *, account_id):
        return f"{settings.PAYOUT_ONBOARDING_RETURN_URL}?account={account_id}"

    def transfer(self, *, account_id, amount, currency, idempotency_key):
        return f"dev_tr_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"


class StripeConnectProvider(PayoutProvider):
    """Stripe Connect Express through the official SDK: the platform's balance transferred to the
    seller's connected account (Stripe then pays it out to their bank on the account's schedule),
    with the card payments' client and settings (marketplace.payments.stripe)."""

    def create_account(self, *, email, country, idempotency_key):
        params = {"type": "express", "email": email, "country": country}
        params["capabilities"] = {"transfers": {"requested": True}}
        with self._reachable():
            return stripe_client().accounts.create(params=params, options={"idempotency_key": idempotency_key}).id

    def onboarding_link(self, *, account_id):
        params = {
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": settings.PAYOUT_ONBOARDING_REFRESH_URL,
            "return_url": settings.PAYOUT_ONBOARDING_RETURN_URL,
        }
        with self._reachable():
            return stripe_client().account_links.create(params=params).url

    def transfer(self, *, account_id, amount, currency, idempotency_key):
        params = {"amount": minor_units(amount, currency), "currency": currency.lower(), "destination": account_id}
        try:
            with self._reachable():
                return stripe_client().transfers.create(params=params, options={"idempotency_key": idempotency_key}).id
        except (stripe.InvalidRequestError, stripe.PermissionError) as refused:
            # The account cannot receive it (not onboarded, closed) or the platform balance is short.
            raise PayoutRefused(refused.user_message or "The payout account cannot receive payouts yet.") from None

    @contextmanager
    def _reachable(self):
        """Stripe out of reach, or failing on its side, is PayoutUnavailable; a refusal passes."""
        try:
            yield
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as failure:
            raise PayoutUnavailable(str(failure)) from failure


def provider(path: str | None = None) -> PayoutProvider:
    """The configured provider, or the one at `path` (a payout is sent by whoever holds its account)."""
    return _load(path or settings.PAYOUT_PROVIDER)


@cache
def _load(path: str) -> PayoutProvider:
    return import_string(path)()
