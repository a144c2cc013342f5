from django.contrib import admin, messages

from config.errors import ServiceError
from marketplace import services
from marketplace.models import Category, Listing, ListingImage, ListingPriceChange


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("path", "name", "parent")
    search_fields = ("name", "path")
    readonly_fields = ("path",)


class ListingImageInline(admin.TabularInline):
    model = ListingImage
    fields = ("position", "original", "width", "height", "renditions")
    readonly_fields = ("original", "width", "height", "renditions")
    extra = 0


class ListingPriceChangeInline(admin.TabularInline):
    model = ListingPriceChange
    fields = ("changed_at", "old_price", "new_price", "currency")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # written by marketplace.services with every price change


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "seller", "status", "price", "currency", "like_count", "category", "listed_at")
    list_filter = ("status", "condition", "currency", "category")
    search_fields = ("title", "brand", "description", "seller__username")
    raw_id_fields = ("seller",)
    readonly_fields = ("like_count", "lowest_notified_price", "created_at", "updated_at")
    date_hierarchy = "listed_at"
    list_select_related = ("seller", "category")
    inlines = [ListingImageInline, ListingPriceChangeInline]
    actions = ["remove"]

    @admin.action(description="Remove (take down for good)")
    def remove(self, request, queryset):
        removed = 0
        for listing in queryset:
            try:
                services.remove_listing(listing=listing)
                removed += 1
            except ServiceError as error:
                self.message_user(request, f"{listing}: {error}", messages.WARNING)
        self.message_user(request, f"Removed {removed} listing(s).", messages.SUCCESS)


@admin.register(ListingImage)
class ListingImageAdmin(admin.ModelAdmin):
    list_display = ("listing", "position", "width", "height", "created_at")
    search_fields = ("listing__title", "listing__seller__username")
    raw_id_fields = ("listing",)
    readonly_fields = ("original", "width", "height", "renditions")
