import graphene
from graphene_django import DjangoObjectType

from config.graphql.node import Node
from config.graphql.permissions import require_user
from config.realtime import user_group
from notifications.models import Notification


class NotificationType(DjangoObjectType):
    class Meta:
        model = Notification
        name = "Notification"
        interfaces = (Node,)
        fields = ("kind", "title", "body", "created_at", "read_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(recipient_id=user.pk) if user.is_authenticated else queryset.none()


class Subscription(graphene.ObjectType):
    notification_added = graphene.Field(NotificationType, description="Each new notification of the viewer.")

    async def subscribe_notification_added(root, info):
        user = require_user(info)
        return info.context.listen(user_group(user.pk))

    def resolve_notification_added(event, info):
        notification_id = event.get("notification_id")
        return Notification.objects.filter(pk=notification_id, recipient_id=info.context.user.pk).first()
