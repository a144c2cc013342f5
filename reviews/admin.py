"""Moderation of reviews: staff hide abusive ones (audited on the review: who, when, why) or
put one back; either keeps the seller's average in step."""

from django.contrib import admin, messages

from reviews import services
from reviews.models import Review, SellerRating


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("order", "seller", "buyer", "rating", "created_at", "answered_at", "hidden_at", "hidden_by")
    list_filter = ("rating", "hidden_at")
    search_fields = ("note", "answer", "seller__username", "buyer__username")
    date_hierarchy = "created_at"
    list_select_related = ("seller", "buyer", "hidden_by")
    readonly_fields = [field.name for field in Review._meta.fields]
    actions = ["hide", "unhide"]

    def has_add_permission(self, request):
        return False  # buyers write reviews; staff only moderate them

    def has_delete_permission(self, request, obj=None):
        return False  # hiding keeps the audit and the seller's totals right

    @admin.action(description="Hide (abusive): drops out of lists and averages")
    def hide(self, request, queryset):
        hidden = sum(
            services.hide_review(review=review, staff=request.user, reason="Hidden by staff in the admin")
            for review in queryset
        )
        self.message_user(request, f"Hidden {hidden} review(s).", messages.SUCCESS)

    @admin.action(description="Show again")
    def unhide(self, request, queryset):
        shown = sum(services.unhide_review(review=review) for review in queryset)
        self.message_user(request, f"Shown {shown} review(s) again.", messages.SUCCESS)


@admin.register(SellerRating)
class SellerRatingAdmin(admin.ModelAdmin):
    list_display = ("seller", "review_count", "rating_total")
    search_fields = ("seller__username",)
    readonly_fields = ("seller", "review_count", "rating_total")

    def has_add_permission(self, request):
        return False  # kept by reviews.services
