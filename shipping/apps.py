from django.apps import AppConfig


class ShippingConfig(AppConfig):
    """Prepaid labels and carrier tracking for the marketplace's orders (docs/architecture.md, "shipping")."""

    name = "shipping"

    def ready(self):
        from accounts import hooks as account_hooks
        from shipping import account_data

        # What exporting an account's data means for this app's data (deleting keeps the parcels).
        account_hooks.register("shipping", export=account_data.export)

        from marketplace import events, hooks
        from marketplace.models import DomainEvent
        from shipping import (
            checks,  # noqa: F401  (registers the deploy checks)
            selectors,
            services,
        )

        # A placed order gets its label, a cancelled one gives it back; every order card carries its
        # parcels in the card's prefetch.
        events.subscribe(DomainEvent.Name.ORDER_PLACED, services.on_order_placed)
        events.subscribe(DomainEvent.Name.ORDER_CANCELLED, services.on_order_cancelled)
        hooks.ORDER_CARD_PREFETCHES.append(selectors.shipments_prefetch)
