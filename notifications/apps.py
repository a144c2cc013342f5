from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from accounts import hooks as account_hooks
        from accounts import services as account_services
        from notifications import account_data, services

        # A session that ends (logout, on one device or all) lets go of the devices it registered.
        account_services.TOKENS_REVOKED_HOOKS.append(services.release_devices_of_sessions)

        # What deleting an account and exporting its data mean for this app's data.
        account_hooks.register("notifications", export=account_data.export, erase=account_data.erase)
