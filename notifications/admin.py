"""The community team's view: why a push did or didn't go, segment caps, resending failures."""

from django.contrib import admin, messages
from django.db.models import Count, Q

from notifications import services
from notifications.models import (
    Device,
    Notification,
    NotificationEvent,
    NotificationSettings,
    Outcome,
    PushDecision,
    PushSegment,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "title", "dedupe_key")
    raw_id_fields = ("recipient", "event")
    date_hierarchy = "created_at"


@admin.register(PushDecision)
class PushDecisionAdmin(admin.ModelAdmin):
    """Recent decisions, newest first; search a username to see one member's day."""

    list_display = (
        "recipient",
        "notification_title",
        "category",
        "outcome",
        "detail",
        "decided_at",
        "due_at",
        "attempts",
    )
    list_filter = ("outcome", "category", "decided_at")
    search_fields = ("recipient__username", "coalesce_key", "notification__title")
    date_hierarchy = "decided_at"
    ordering = ("-decided_at", "-pk")
    list_select_related = ("recipient", "notification")
    raw_id_fields = ("recipient", "notification", "event")
    readonly_fields = [field.name for field in PushDecision._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False  # decisions are made by the engine only

    @admin.display(description="notification")
    def notification_title(self, decision):
        return decision.notification.title

    @admin.action(description="Resend the failed ones")
    def resend(self, request, queryset):
        count = services.resend_failed(queryset)
        self.message_user(request, f"Resending {count} failed push(es).", messages.SUCCESS)


@admin.register(NotificationEvent)
class NotificationEventAdmin(admin.ModelAdmin):
    """The outbox: one row per notify() call, with how its fan-out went."""

    list_display = (
        "kind",
        "title",
        "dedupe_key",
        "recipient_count",
        "chunks_done",
        "failed_pushes",
        "created_at",
        "completed_at",
    )
    list_filter = ("kind", ("completed_at", admin.EmptyFieldListFilter))
    search_fields = ("dedupe_key", "coalesce_key", "title")
    date_hierarchy = "created_at"
    exclude = ("recipient_ids",)
    readonly_fields = [field.name for field in NotificationEvent._meta.fields if field.name != "recipient_ids"]
    actions = ["resend_failed"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                done=Count("done_chunks", distinct=True),
                failed=Count("push_decisions", filter=Q(push_decisions__outcome=Outcome.FAILED), distinct=True),
            )
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description="chunks done")
    def chunks_done(self, event):
        return f"{event.done} / {event.chunk_count}"

    @admin.display(description="failed pushes", ordering="failed")
    def failed_pushes(self, event):
        return event.failed

    @admin.action(description="Resend failed pushes of these events")
    def resend_failed(self, request, queryset):
        count = services.resend_failed(PushDecision.objects.filter(event__in=queryset))
        self.message_user(request, f"Resending {count} failed push(es).", messages.SUCCESS)


@admin.register(PushSegment)
class PushSegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "daily_cap", "is_default", "member_count")
    list_editable = ("daily_cap", "is_default")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_total=Count("members"))

    @admin.display(description="members", ordering="members_total")
    def member_count(self, segment):
        return segment.members_total


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "segment", "daily_cap_override", "quiet_hours_start", "quiet_hours_end", "muted_categories")
    list_filter = ("segment",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    list_select_related = ("user", "segment")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "platform", "name", "is_active", "registered_at", "deactivated_at", "deactivation_reason")
    list_filter = ("platform", "is_active")
    search_fields = ("user__username", "name", "token")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
