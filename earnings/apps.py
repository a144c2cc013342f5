from django.apps import AppConfig


class EarningsConfig(AppConfig):
    """Seller earnings: a ledger booked from the marketplace's order events, and payouts."""

    name = "earnings"

    def ready(self):
        from accounts import hooks
        from earnings import (
            account_data,
            checks,  # noqa: F401  (registers the deploy checks)
        )

        # Deleting an account waits for its earnings to be settled; the ledger itself is kept.
        hooks.register("earnings", export=account_data.export, check_deletion=account_data.check_deletion)

        from earnings import services
        from marketplace import events

        # Every step of an order's life books (or releases) the seller's entries, idempotently.
        for name, handler in services.ORDER_EVENT_HANDLERS.items():
            events.subscribe(name, handler)
