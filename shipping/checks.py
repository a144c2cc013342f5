from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def easypost_configured(app_configs, **kwargs):
    """Labels through EasyPost need its API key, and its tracking webhook the secret that signs it."""
    if settings.SHIPPING_CARRIER != "easypost":
        return []
    missing = [name for name in ("EASYPOST_API_KEY", "EASYPOST_WEBHOOK_SECRET") if not getattr(settings, name)]
    if not missing:
        return []
    return [
        Error(
            f"SHIPPING_CARRIER is easypost but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
            hint="Set them from the EasyPost dashboard (API keys; Webhooks: the webhook's secret).",
            id="shipping.E001",
        )
    ]
