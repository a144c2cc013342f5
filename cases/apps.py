from django.apps import AppConfig


class CasesConfig(AppConfig):
    """Buyers' cases about orders: an open one holds the funds; orders carry their case."""

    name = "cases"

    def ready(self):
        from cases import selectors, services
        from marketplace import events, hooks
        from marketplace.models import DomainEvent

        # The platform never accepts an order with an open case; accepting it yourself withdraws it.
        hooks.ACCEPTANCE_HELD.append(selectors.acceptance_held)
        hooks.ORDER_CARD_PREFETCHES.append(selectors.order_cases)
        events.subscribe(DomainEvent.Name.ORDER_ACCEPTED, services.close_with_order)
        events.subscribe(DomainEvent.Name.ORDER_REFUNDED, services.close_with_order)

        from accounts import hooks as account_hooks
        from cases import account_data

        # What deleting an account and exporting its data mean for this app's data.
        account_hooks.register("cases", export=account_data.export, erase=account_data.erase)
