from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self):
        from marketplace import hooks
        from social import selectors

        # Members show with their follow counts; a block hides closets and stops trade both ways.
        hooks.MEMBER_ANNOTATIONS.append(selectors.with_follow_stats)
        hooks.LISTING_CARD_ANNOTATIONS.append(
            lambda viewer, now: {"viewer_has_liked": selectors.viewer_has_liked(viewer)}
        )
        hooks.HIDDEN_SELLERS.append(selectors.blockers_of)
        hooks.DEALING_BARRED.append(selectors.is_blocked)

        from accounts import hooks as account_hooks
        from social import account_data

        # What deleting an account and exporting its data mean for this app's data.
        account_hooks.register("social", export=account_data.export, erase=account_data.erase)
