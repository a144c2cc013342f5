"""`check --deploy` refuses payouts that move no money, and Stripe payouts with no key."""

import pytest

from earnings.checks import real_payout_provider


@pytest.mark.parametrize(
    ("provider", "dev_allowed", "key", "errors"),
    [
        ("earnings.payouts.DevPayoutProvider", False, "", ["earnings.E001"]),
        ("earnings.payouts.DevPayoutProvider", True, "", []),
        ("earnings.payouts.StripeConnectProvider", False, "", ["earnings.E002"]),
        ("earnings.payouts.StripeConnectProvider", False, "sk_live_x", []),
    ],
)
def test_the_deploy_check(settings, provider, dev_allowed, key, errors):
    settings.PAYOUT_PROVIDER, settings.PAYMENT_DEV_PROVIDER_ALLOWED, settings.STRIPE_SECRET_KEY = (
        provider,
        dev_allowed,
        key,
    )
    assert [error.id for error in real_payout_provider(None)] == errors
