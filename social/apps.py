from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self):
        from accounts import hooks
        from social import account_data

        # What deleting an account and exporting its data mean for this app's data.
        hooks.register("social", export=account_data.export, erase=account_data.erase)
