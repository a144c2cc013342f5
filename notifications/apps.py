from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from accounts import services as account_services
        from notifications import services

        # A session that ends (logout, on one device or all) lets go of the devices it registered.
        account_services.TOKENS_REVOKED_HOOKS.append(services.release_devices_of_sessions)
