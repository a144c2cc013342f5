from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_PROVIDER = "earnings.payouts.DevPayoutProvider"
STRIPE_PROVIDER = "earnings.payouts.StripeConnectProvider"


@register(Tags.security, deploy=True)
def real_payout_provider(app_configs, **kwargs):
    """A deployment must not record payouts that move no money, nor pay through Stripe with no key."""
    if settings.PAYOUT_PROVIDER == DEV_PROVIDER and not settings.PAYMENT_DEV_PROVIDER_ALLOWED:
        return [
            Error(
                "PAYOUT_PROVIDER is the dev provider, which records payouts without moving money.",
                hint="Set PAYOUT_PROVIDER=earnings.payouts.StripeConnectProvider, or PAYMENT_DEV_PROVIDER_ALLOWED=true "
                "on staging.",
                id="earnings.E001",
            )
        ]
    if settings.PAYOUT_PROVIDER == STRIPE_PROVIDER and not settings.STRIPE_SECRET_KEY:
        return [Error("Stripe Connect payouts need STRIPE_SECRET_KEY.", id="earnings.E002")]
    return []
