from django.db import transaction

from config.realtime import broadcast_on_commit, user_group
from notifications.models import Notification


@transaction.atomic
def create_notification(*, recipient, kind: str, title: str, body: str = "") -> Notification:
    """Store an inbox entry and tell the recipient's open sockets once it is committed."""
    notification = Notification.objects.create(recipient=recipient, kind=kind, title=title, body=body)
    broadcast_on_commit(user_group(recipient.pk), {"notification_id": notification.pk})
    return notification
