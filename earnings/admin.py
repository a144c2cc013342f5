"""The community team's view of earnings: the commission and payout settings, and the ledger,
payouts and payout accounts, read-only, filtered and exported as CSV."""

import csv

from django.contrib import admin
from django.http import HttpResponse

from earnings.models import EarningsAccount, EarningsSettings, LedgerEntry, Payout, PayoutAccount
from sellers.admin import ReadOnlyAdmin, SingleRowAdmin


@admin.register(EarningsSettings)
class EarningsSettingsAdmin(SingleRowAdmin):
    list_display = (
        "__str__",
        "commission_threshold",
        "commission_flat_fee",
        "commission_percent",
        "payout_schedule",
        "payout_minimum",
    )
    fieldsets = (
        ("Commission", {"fields": ("commission_threshold", "commission_flat_fee", "commission_percent")}),
        ("Payouts", {"fields": ("payout_schedule", "payout_weekday", "payout_minimum")}),
    )


class MoneyRecordAdmin(ReadOnlyAdmin):
    """What moved money: looked up, never edited nor deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


class ExportedAdmin(MoneyRecordAdmin):
    """Read-only rows with an action exporting the selected ones as CSV (the columns of the list)."""

    actions = ("export_csv",)
    export_name: str

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.export_name}.csv"'
        writer = csv.writer(response)
        writer.writerow(self.export_fields)
        for row in queryset.order_by("pk").values_list(*self.export_fields).iterator(chunk_size=2000):
            writer.writerow(row)
        return response


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ExportedAdmin):
    list_display = ("created_at", "seller", "kind", "amount", "currency", "state", "order", "payout")
    list_filter = ("kind", "state", "currency", "created_at")
    search_fields = ("seller__username", "=order__id", "=payout__id", "key")
    list_select_related = ("seller", "order", "payout")
    date_hierarchy = "created_at"
    export_name = "ledger-entries"
    export_fields = (
        "id",
        "created_at",
        "seller__username",
        "kind",
        "amount",
        "currency",
        "state",
        "available_at",
        "order_id",
        "payout_id",
        "key",
    )


@admin.register(Payout)
class PayoutAdmin(ExportedAdmin):
    list_display = ("created_at", "seller", "amount", "currency", "status", "destination", "reference", "paid_at")
    list_filter = ("status", "currency", "created_at")
    search_fields = ("seller__username", "destination", "reference")
    list_select_related = ("seller",)
    date_hierarchy = "created_at"
    export_name = "payouts"
    export_fields = (
        "id",
        "created_at",
        "seller__username",
        "amount",
        "currency",
        "status",
        "destination",
        "reference",
        "paid_at",
        "detail",
    )


@admin.register(EarningsAccount)
class EarningsAccountAdmin(MoneyRecordAdmin):
    list_display = ("seller", "currency", "pending", "available", "paid_out", "updated_at")
    list_filter = ("currency",)
    search_fields = ("seller__username",)
    list_select_related = ("seller",)


@admin.register(PayoutAccount)
class PayoutAccountAdmin(MoneyRecordAdmin):
    list_display = ("seller", "account_id", "provider", "created_at")
    search_fields = ("seller__username", "account_id")
    list_select_related = ("seller",)
