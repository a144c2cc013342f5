from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import AuthToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Closet profile", {"fields": ("display_name", "bio", "avatar", "time_zone")}),
    )
    list_display = ("username", "email", "display_name", "is_staff", "date_joined")
    search_fields = ("username", "email", "display_name")


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "device_name", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "device_name")
    readonly_fields = ("user", "device_name", "created_at", "last_used_at", "expires_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued by logging in; the raw value is never stored

    @admin.action(description="Revoke (log out those devices)")
    def revoke(self, request, queryset):
        count = services.revoke_tokens(queryset.filter(revoked_at__isnull=True))
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
