from django.contrib import admin, messages
from django.db import transaction

from shipping import services
from shipping.models import Shipment, TrackingEvent


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    fields = ("occurred_at", "status", "message", "location")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Labels and tracking as the carrier reported them; only the carrier's webhooks change them."""

    list_display = ("order", "direction", "status", "carrier", "tracking_code", "label_cost", "shipping_charged")
    list_filter = ("direction", "status", "carrier_name")
    search_fields = ("tracking_code", "order__id", "carrier_shipment_id", "tracker_id")
    readonly_fields = [field.name for field in Shipment._meta.fields] + ["shipping_subsidy"]
    inlines = [TrackingEventInline]
    actions = ["simulate_dev_scan"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Simulate the next carrier scan (development carrier only)")
    def simulate_dev_scan(self, request, queryset):
        with transaction.atomic():
            moved = [shipment for shipment in queryset if services.simulate_dev_scan(shipment=shipment)]
        self.message_user(request, f"{len(moved)} of {queryset.count()} parcels scanned.", messages.INFO)
