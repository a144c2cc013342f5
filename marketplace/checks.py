from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_PROVIDER = "marketplace.payments.DevPaymentProvider"


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
