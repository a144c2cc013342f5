from django.apps import AppConfig


class SellersConfig(AppConfig):
    """Seller tools and community programs plug into the apps below (docs/architecture.md, "sellers")."""

    name = "sellers"

    def ready(self):
        from accounts import hooks as account_hooks
        from sellers import account_data

        # What deleting an account and exporting its data mean for this app's data.
        account_hooks.register("sellers", export=account_data.export, erase=account_data.erase)

        from marketplace import events, hooks, pricing
        from marketplace.models import DomainEvent
        from sellers import selectors, services
        from social import hooks as social_hooks

        # The first-sale program discounts a new seller's first order and takes back the subsidy of
        # a cancelled one; its banner is on every listing card of a seller with no sale yet.
        pricing.DISCOUNT_RULES.append(services.first_sale_shipping_discount)
        events.subscribe(DomainEvent.Name.ORDER_CANCELLED, services.return_first_sale_subsidy)
        hooks.LISTING_CARD_ANNOTATIONS.append(
            lambda viewer, now: {"first_sale_shipping_discount": selectors.first_sale_shipping_banner(now)}
        )
        # Likers hear of a big enough price drop; a closet visit may schedule the seller's greeting.
        hooks.PRICE_CHANGE.append(services.on_price_change)
        social_hooks.CLOSET_VISIT.append(services.schedule_auto_greeting)
