from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        from marketplace import checks  # noqa: F401  (registers the deploy checks)
