from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "sellers"

    def ready(self):
        from accounts import hooks
        from sellers import account_data

        # What deleting an account and exporting its data mean for this app's data.
        hooks.register("sellers", export=account_data.export, erase=account_data.erase)

        from marketplace import events, pricing
        from marketplace.models import DomainEvent
        from sellers import services

        # The first-sale program discounts a new seller's first order and takes back the subsidy of
        # a cancelled one.
        pricing.DISCOUNT_RULES.append(services.first_sale_shipping_discount)
        events.subscribe(DomainEvent.Name.ORDER_CANCELLED, services.return_first_sale_subsidy)
