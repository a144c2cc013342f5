import graphene
from graphene_django import DjangoObjectType

from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_user
from config.realtime import user_group
from marketplace.models import Listing
from marketplace.schema import ListingType
from notifications import selectors, services
from notifications.models import CATEGORY_OF_KIND, Category, Device, Kind, Notification

NotificationKind = graphene.Enum.from_enum(Kind, name="NotificationKind", description="What happened.")
NotificationCategory = graphene.Enum.from_enum(
    Category, name="NotificationCategory", description="What push can be turned on or off for."
)
DevicePlatform = graphene.Enum.from_enum(Device.Platform, name="DevicePlatform")


class NotificationType(DjangoObjectType):
    class Meta:
        model = Notification
        name = "Notification"
        interfaces = (Node,)
        fields = ("title", "body", "created_at", "read_at")

    kind = graphene.Field(NotificationKind, required=True)
    category = graphene.Field(NotificationCategory, required=True)
    data = graphene.JSONString(required=True, description="Extra facts for the client, as JSON.")
    listing = graphene.Field(ListingType, description="The listing it is about, if any and still visible.")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return selectors.inbox(user) if user.is_authenticated else queryset.none()

    def resolve_listing(notification, info):
        # Every path loads notifications through selectors.inbox, which prefetches the target.
        return notification.target if isinstance(notification.target, Listing) else None

    def resolve_category(notification, info):
        return CATEGORY_OF_KIND[notification.kind]


class NotificationConnection(graphene.relay.Connection):
    class Meta:
        node = NotificationType


class DeviceType(DjangoObjectType):
    class Meta:
        model = Device
        name = "Device"
        interfaces = (Node,)
        fields = ("name", "is_active", "registered_at")

    platform = graphene.Field(DevicePlatform, required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(user_id=user.pk) if user.is_authenticated else queryset.none()


class CategoryPreference(graphene.ObjectType):
    category = graphene.Field(NotificationCategory, required=True)
    push = graphene.Boolean(required=True)


class QuietHours(graphene.ObjectType):
    start = graphene.Time(required=True, description="Local time in the member's time zone.")
    end = graphene.Time(required=True, description="Pushes held meanwhile are sent from then on.")


class NotificationPreferences(graphene.ObjectType):
    """Push preferences; the inbox always gets every notification whatever they say."""

    categories = graphene.List(graphene.NonNull(CategoryPreference), required=True)
    quiet_hours = graphene.Field(QuietHours, description="Null when off.")
    time_zone = graphene.String(required=True, description="Quiet hours and the day of the cap follow it.")
    daily_cap = graphene.Int(required=True, description="Most pushes a day; transactional ones don't count.")
    daily_cap_override = graphene.Int(description="The member's own cap; null to use the segment's.")
    segment_daily_cap = graphene.Int(required=True)
    daily_cap_min = graphene.Int(required=True)
    daily_cap_max = graphene.Int(required=True)

    def resolve_categories(preferences, info):
        return [CategoryPreference(category=category, push=preferences.push_enabled(category)) for category in Category]

    def resolve_quiet_hours(preferences, info):
        return QuietHours(*preferences.quiet_hours) if preferences.quiet_hours else None


class Query(graphene.ObjectType):
    notifications = graphene.Field(
        graphene.NonNull(NotificationConnection),
        description="The viewer's inbox, newest first.",
        **connection_args(unread_only=graphene.Boolean(description="Only those not read yet.")),
    )
    unread_notification_count = graphene.Int(required=True)
    notification_preferences = graphene.Field(graphene.NonNull(NotificationPreferences))

    def resolve_notifications(root, info, first=None, after=None, unread_only=False):
        user = require_user(info)
        return keyset_page(
            selectors.inbox(user, unread_only=bool(unread_only)),
            NotificationConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )

    def resolve_unread_notification_count(root, info):
        return selectors.unread_count(require_user(info))

    def resolve_notification_preferences(root, info):
        return selectors.preferences_of(require_user(info))


class MarkNotificationsReadInput(graphene.InputObjectType):
    ids = graphene.List(graphene.NonNull(graphene.ID), description="Up to 100 of the viewer's notifications.")
    all = graphene.Boolean(description="Every unread notification of the viewer.")


class MarkNotificationsRead(BaseMutation):
    class Arguments:
        input = MarkNotificationsReadInput(required=True)

    marked_count = graphene.Int()
    unread_count = graphene.Int()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        ids = None if input.ids is None else [decode_id(value, "Notification", field="ids") for value in input.ids]
        marked = services.mark_read(user=user, notification_ids=ids, everything=bool(input.all))
        return cls(marked_count=marked, unread_count=selectors.unread_count(user), errors=[])


class RegisterDeviceInput(graphene.InputObjectType):
    platform = DevicePlatform(required=True)
    token = graphene.String(required=True, description="The FCM registration token of this app install.")
    name = graphene.String(description="Shown in the member's device list, e.g. “Ava's iPhone”.")


class RegisterDevice(BaseMutation):
    """Receive pushes on this device. A token held by another account's signed-in session is refused
    (`DEVICE_TOKEN_IN_USE`) until that session ends (logout or expiry); then it moves to the viewer."""

    class Arguments:
        input = RegisterDeviceInput(required=True)

    device = graphene.Field(DeviceType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        device = services.register_device(
            user=info.context.user,
            platform=_enum_value(input.platform),
            token=input.token,
            name=input.name or "",
            session=getattr(info.context.user, "auth_token", None),
        )
        return cls(device=device, errors=[])


class UnregisterDeviceInput(graphene.InputObjectType):
    token = graphene.String(required=True)


class UnregisterDevice(BaseMutation):
    """Stop pushes to this device (e.g. on logout)."""

    class Arguments:
        input = UnregisterDeviceInput(required=True)

    unregistered = graphene.Boolean()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        services.unregister_device(user=info.context.user, token=input.token)
        return cls(unregistered=True, errors=[])


class CategoryPreferenceInput(graphene.InputObjectType):
    category = NotificationCategory(required=True)
    push = graphene.Boolean(required=True)


class QuietHoursInput(graphene.InputObjectType):
    start = graphene.Time(required=True)
    end = graphene.Time(required=True)


class UpdateNotificationPreferencesInput(graphene.InputObjectType):
    """Fields left out stay as they are; `quietHours: null` turns quiet hours off and
    `dailyCap: null` goes back to the segment's cap."""

    categories = graphene.List(graphene.NonNull(CategoryPreferenceInput))
    quiet_hours = QuietHoursInput()
    daily_cap = graphene.Int()


class UpdateNotificationPreferences(BaseMutation):
    class Arguments:
        input = UpdateNotificationPreferencesInput(required=True)

    preferences = graphene.Field(NotificationPreferences)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        changes = {}
        if "quiet_hours" in input:  # present as null means "off"; absent means "unchanged"
            changes["quiet_hours"] = (input.quiet_hours.start, input.quiet_hours.end) if input.quiet_hours else None
        if "daily_cap" in input:
            changes["daily_cap_override"] = input.daily_cap
        categories = {_enum_value(item.category): item.push for item in input.categories or ()}
        services.update_preferences(user=user, categories=categories, **changes)
        return cls(preferences=selectors.preferences_of(user), errors=[])


def _enum_value(value):
    return getattr(value, "value", value)


class Mutation(graphene.ObjectType):
    mark_notifications_read = MarkNotificationsRead.Field()
    register_device = RegisterDevice.Field()
    unregister_device = UnregisterDevice.Field()
    update_notification_preferences = UpdateNotificationPreferences.Field()


class Subscription(graphene.ObjectType):
    notification_added = graphene.Field(NotificationType, description="Each new notification of the viewer.")

    async def subscribe_notification_added(root, info):
        user = require_user(info)
        return info.context.listen(user_group(user.pk))

    def resolve_notification_added(event, info):
        notification_id = event.get("notification_id")
        return selectors.inbox(info.context.user).filter(pk=notification_id).first()
