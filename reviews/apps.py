from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Buyers' reviews; a seller's average and count show wherever members do."""

    name = "reviews"

    def ready(self):
        from marketplace import hooks
        from reviews import selectors

        # Sellers show with their rating on listing cards, orders and profiles (one joined row,
        # in the members' prefetch); orders carry their review.
        hooks.MEMBER_ANNOTATIONS.append(selectors.with_seller_rating)
        hooks.ORDER_CARD_PREFETCHES.append(selectors.order_review)

        from accounts import hooks as account_hooks
        from reviews import account_data

        # What deleting an account and exporting its data mean for this app's data.
        account_hooks.register("reviews", export=account_data.export, erase=account_data.erase)
