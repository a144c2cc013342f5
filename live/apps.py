from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self):
        from accounts import hooks
        from live import account_data

        # What deleting an account and exporting its data mean for this app's data.
        hooks.register(
            "live", export=account_data.export, erase=account_data.erase, check_deletion=account_data.check_deletion
        )
