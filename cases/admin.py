"""Staff resolve cases: read the buyer's photos, both sides' messages and the history, then
refund the buyer (a return label follows) or release the payment to the seller. Each resolution
is a CaseEvent naming the staff member (the audit), and both parties are told."""

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.utils.html import format_html, format_html_join

from cases import services
from cases.models import Case, CaseEvent, CaseMessage
from config.errors import ServiceError


class CaseMessageInline(admin.TabularInline):
    model = CaseMessage
    fields = ("created_at", "author", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # the parties write through the app


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "kind", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # written by cases.services with every step


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("__str__", "order", "buyer", "seller", "reason", "status", "opened_at", "seller_answered_at")
    list_filter = ("status", "reason")
    search_fields = ("description", "buyer__username", "seller__username")
    date_hierarchy = "opened_at"
    list_select_related = ("order", "buyer", "seller")
    readonly_fields = [field.name for field in Case._meta.fields] + ["photo_links"]
    inlines = [CaseMessageInline, CaseEventInline]
    actions = ["refund_with_return_label", "release_to_seller"]

    def has_add_permission(self, request):
        return False  # buyers open cases

    def has_delete_permission(self, request, obj=None):
        return False  # a case is the audit of a held payment

    @admin.display(description="Photos")
    def photo_links(self, case):
        return format_html_join(
            " ",
            '<a href="{}" target="_blank">photo {}</a>',
            ((default_storage.url(photo.original), photo.position + 1) for photo in case.photos.all()),
        ) or format_html("{}", "none")

    @admin.action(description="Resolve: refund the buyer with a return label")
    def refund_with_return_label(self, request, queryset):
        self._resolve(request, queryset, services.refund_case, "Refunded")

    @admin.action(description="Resolve: release the payment to the seller")
    def release_to_seller(self, request, queryset):
        self._resolve(request, queryset, services.release_case, "Released")

    def _resolve(self, request, queryset, resolve, done):
        resolved = 0
        for case in queryset:
            try:
                resolve(case=case, staff=request.user)
                resolved += 1
            except ServiceError as error:
                self.message_user(request, f"{case}: {error}", messages.WARNING)
        self.message_user(request, f"{done}: {resolved} case(s).", messages.SUCCESS)
