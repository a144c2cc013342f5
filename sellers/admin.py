"""The community team's view of the seller tools: their figures, and what they sent."""

from django.contrib import admin

from sellers.models import (
    Greeting,
    GreetingTemplate,
    OfferToLikers,
    PriceDropNotice,
    ScheduledGreeting,
    SellerToolSettings,
    Upsell,
)


@admin.register(SellerToolSettings)
class SellerToolSettingsAdmin(admin.ModelAdmin):
    """One row: added once (with the defaults filled in), then edited."""

    list_display = ("__str__", "price_drop_threshold_percent", "price_drop_window_minutes", "greeting_visit_days",
                    "greeting_period_days")

    def has_add_permission(self, request):
        return not SellerToolSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the tools write; staff look them up, never edit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PriceDropNotice)
class PriceDropNoticeAdmin(ReadOnlyAdmin):
    list_display = ("listing", "previous_price", "new_price", "currency", "likers_reached", "window_start",
                    "created_at")
    search_fields = ("listing__title", "listing__seller__username")
    raw_id_fields = ("listing", "price_change", "window_start")
    list_select_related = ("listing",)
    date_hierarchy = "created_at"


@admin.register(Greeting)
class GreetingAdmin(ReadOnlyAdmin):
    list_display = ("seller", "visitor", "automatic", "template", "created_at")
    list_filter = ("automatic",)
    search_fields = ("seller__username", "visitor__username")
    raw_id_fields = ("seller", "visitor", "message", "template")
    list_select_related = ("seller", "visitor", "template")
    date_hierarchy = "created_at"


@admin.register(ScheduledGreeting)
class ScheduledGreetingAdmin(ReadOnlyAdmin):
    """Automatic greetings waiting out their delay, and why processed ones were skipped."""

    list_display = ("seller", "visitor", "due_at", "processed_at", "outcome", "detail")
    list_filter = ("outcome", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("seller__username", "visitor__username")
    raw_id_fields = ("seller", "visitor", "greeting")
    list_select_related = ("seller", "visitor")
    date_hierarchy = "due_at"


@admin.register(GreetingTemplate)
class GreetingTemplateAdmin(admin.ModelAdmin):
    """Sellers' saved greetings, for moderation."""

    list_display = ("seller", "name", "body", "updated_at")
    search_fields = ("seller__username", "name", "body")
    raw_id_fields = ("seller",)
    list_select_related = ("seller",)

    def has_add_permission(self, request):
        return False


@admin.register(OfferToLikers)
class OfferToLikersAdmin(ReadOnlyAdmin):
    list_display = ("listing", "amount", "shipping_discount", "currency", "skipped_count", "created_at")
    search_fields = ("listing__title", "listing__seller__username")
    raw_id_fields = ("listing",)
    exclude = ("offers",)  # thousands of rows; the offers admin filters by listing and source
    list_select_related = ("listing",)
    date_hierarchy = "created_at"


@admin.register(Upsell)
class UpsellAdmin(ReadOnlyAdmin):
    list_display = ("order", "message", "created_at")
    search_fields = ("order__seller__username", "order__buyer__username")
    raw_id_fields = ("order", "message")
    list_select_related = ("order", "message")
    date_hierarchy = "created_at"
