from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from accounts import hooks
        from notifications import account_data

        # What deleting an account and exporting its data mean for this app's data.
        hooks.register("notifications", export=account_data.export, erase=account_data.erase)
