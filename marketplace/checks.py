from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_PROVIDER = "marketplace.payments.DevPaymentProvider"
STRIPE_PROVIDER = "marketplace.payments.StripePaymentProvider"
STRIPE_SETTINGS = {
    "STRIPE_SECRET_KEY": "the account's secret API key (sk_live_...)",
    "STRIPE_PUBLISHABLE_KEY": "the publishable key the payment sheet opens with (pk_live_...)",
    "STRIPE_WEBHOOK_SECRET": "the signing secret of the /webhooks/stripe/ endpoint (whsec_...)",
}


@register(Tags.security, deploy=True)
def real_payment_provider(app_configs, **kwargs):
    """A deployment must not take orders through the provider that moves no money."""
    if settings.PAYMENT_PROVIDER == DEV_PROVIDER and not settings.PAYMENT_DEV_PROVIDER_ALLOWED:
        return [
            Error(
                "PAYMENT_PROVIDER is the dev provider, which approves payments without moving money.",
                hint="Set PAYMENT_PROVIDER to a real provider, or PAYMENT_DEV_PROVIDER_ALLOWED=true on staging.",
                id="marketplace.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def stripe_configured(app_configs, **kwargs):
    """Stripe takes payments only with its keys, and its webhooks only with their signing secret."""
    if settings.PAYMENT_PROVIDER != STRIPE_PROVIDER:
        return []
    return [
        Error(f"{name} is not set: {what}.", hint="Copy it from the Stripe dashboard.", id="marketplace.E002")
        for name, what in STRIPE_SETTINGS.items()
        if not getattr(settings, name)
    ]
