from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        from accounts import hooks
        from marketplace import account_data

        # What deleting an account and exporting its data mean for this app's data.
        hooks.register(
            "marketplace",
            export=account_data.export,
            erase=account_data.erase,
            check_deletion=account_data.check_deletion,
        )

        from marketplace import (
            checks,  # noqa: F401  (registers the deploy checks)
            selectors,
        )
        from notifications import hooks as notification_hooks

        # A listing in an inbox comes as the card its recipient may see.
        notification_hooks.TARGETS.append(
            lambda viewer: selectors.listing_cards(selectors.visible_listings(viewer), viewer)
        )
