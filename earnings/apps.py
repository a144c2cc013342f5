from django.apps import AppConfig


class EarningsConfig(AppConfig):
    """Seller earnings: a ledger booked from the marketplace's order events, and payouts."""

    name = "earnings"

    def ready(self):
        from earnings import services
        from marketplace import events

        # Every step of an order's life books (or releases) the seller's entries, idempotently.
        for name, handler in services.ORDER_EVENT_HANDLERS.items():
            events.subscribe(name, handler)
