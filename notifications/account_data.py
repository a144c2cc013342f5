"""What deleting an account and exporting its data mean for notifications (accounts.hooks):
devices (push tokens), the inbox, push decisions and preferences go with the account."""

from notifications.models import Device, Notification, NotificationSettings, PushDecision


def erase(user) -> None:
    Device.objects.filter(user=user).delete()
    PushDecision.objects.filter(recipient=user).delete()
    Notification.objects.filter(recipient=user).delete()
    NotificationSettings.objects.filter(user=user).delete()


def export(user) -> dict:
    settings_row = NotificationSettings.objects.filter(user=user).first()
    return {
        "devices": list(Device.objects.filter(user=user).values("platform", "name", "is_active", "registered_at")),
        "notifications": list(
            Notification.objects.filter(recipient=user)
            .order_by("created_at")
            .values("kind", "title", "body", "created_at", "read_at")
        ),
        "settings": None
        if settings_row is None
        else {
            field.name: getattr(settings_row, field.attname)
            for field in NotificationSettings._meta.concrete_fields
            if field.name != "user"
        },
    }
