from django.contrib import admin, messages

from config.errors import ServiceError
from marketplace import services
from marketplace.models import (
    Category,
    CurationTerms,
    DomainEvent,
    Listing,
    ListingImage,
    ListingPriceChange,
    Offer,
    Order,
    OrderDiscount,
    OrderLine,
    Payment,
    PaymentCustomer,
    ProcessedProviderEvent,
    SellerDiscounts,
    ShippingRate,
)


class ServiceActions:
    """Admin actions that run a service per selected row and report refusals."""

    def run_for_each(self, request, queryset, action, done: str):
        succeeded = 0
        for row in queryset:
            try:
                action(row)
                succeeded += 1
            except ServiceError as error:
                self.message_user(request, f"{row}: {error}", messages.WARNING)
        self.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)


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
class ListingAdmin(ServiceActions, admin.ModelAdmin):
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
        self.run_for_each(
            request, queryset, lambda listing: services.remove_listing(listing=listing), "Listings removed"
        )


@admin.register(ListingImage)
class ListingImageAdmin(admin.ModelAdmin):
    list_display = ("listing", "position", "width", "height", "created_at")
    search_fields = ("listing__title", "listing__seller__username")
    raw_id_fields = ("listing",)
    readonly_fields = ("original", "width", "height", "renditions")


# Checkout: fees and discounts staff set, orders and payments they look into --------------------


@admin.register(ShippingRate)
class ShippingRateAdmin(admin.ModelAdmin):
    """The flat label fee per currency; a currency without a rate pays settings.SHIPPING_LABEL_FEE."""

    list_display = ("currency", "label_fee", "max_weight_lb", "updated_at")


@admin.register(SellerDiscounts)
class SellerDiscountsAdmin(admin.ModelAdmin):
    list_display = ("seller", "bundle_percent", "bundle_min_items", "shipping_percent", "updated_at")
    search_fields = ("seller__username",)
    raw_id_fields = ("seller",)


@admin.register(CurationTerms)
class CurationTermsAdmin(admin.ModelAdmin):
    list_display = ("seller", "allow_curation", "allow_auctions", "auction_floor_percent", "updated_at")
    list_filter = ("allow_curation", "allow_auctions")
    search_fields = ("seller__username",)
    raw_id_fields = ("seller",)


class ReadOnlyInline(admin.TabularInline):
    """Written by marketplace.services with the order: shown, never edited here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("listing", "title", "price", "source", "active", "sole_unit")


class OrderDiscountInline(ReadOnlyInline):
    model = OrderDiscount
    fields = ("source", "applies_to", "amount", "description")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("status", "amount", "currency", "reference", "detail", "created_at", "updated_at")


@admin.register(Order)
class OrderAdmin(ServiceActions, admin.ModelAdmin):
    """Orders change through their transitions only: cancel (refunds the buyer) or mark delivered."""

    list_display = ("pk", "buyer", "seller", "status", "source", "total", "currency", "placed_at")
    list_filter = ("status", "source", "currency")
    search_fields = ("buyer__username", "seller__username", "tracking_number", "lines__title")
    date_hierarchy = "placed_at"
    list_select_related = ("buyer", "seller")
    inlines = [OrderLineInline, OrderDiscountInline, PaymentInline]
    actions = ["cancel", "mark_delivered"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel (items back in stock, buyer refunded)")
    def cancel(self, request, queryset):
        self.run_for_each(
            request, queryset, lambda order: services.cancel_order(order=order, actor=request.user), "Cancelled"
        )

    @admin.action(description="Mark delivered (the carrier says so)")
    def mark_delivered(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            lambda order: services.mark_order_delivered(order=order, actor=request.user),
            "Marked delivered",
        )


class ProviderEventInline(ReadOnlyInline):
    model = ProcessedProviderEvent
    fields = ("type", "event_id", "processed_at")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Failed captures and refunds wait here for staff (filter by status), with the provider's
    webhook events each payment heard."""

    list_display = ("pk", "order", "status", "amount", "currency", "provider", "updated_at")
    list_filter = ("status", "provider")
    search_fields = ("reference", "order__buyer__username")
    raw_id_fields = ("order",)
    inlines = [ProviderEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PaymentCustomer)
class PaymentCustomerAdmin(admin.ModelAdmin):
    """Members' customer records at the provider (search by a Stripe customer id)."""

    list_display = ("user", "provider", "reference", "created_at")
    search_fields = ("user__username", "reference")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "listing",
        "bundle",
        "buyer",
        "seller",
        "source",
        "status",
        "turn",
        "buyer_amount",
        "seller_amount",
        "expires_at",
    )
    list_filter = ("status", "source")
    search_fields = ("buyer__username", "seller__username", "listing__title")
    list_select_related = ("listing", "buyer", "seller")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    list_display = ("pk", "name", "payload", "created_at", "dispatched_at")
    list_filter = ("name",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
