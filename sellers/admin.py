"""The community team's view of the seller tools (their figures, and what they sent) and of the
community programs (their settings and audit, what they paid and sent)."""

from datetime import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join

from sellers import program_charts, services
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    Greeting,
    GreetingTemplate,
    MentoringGroup,
    MentoringProgram,
    MentoringSeat,
    OfferToLikers,
    PriceDropNotice,
    ProgramChange,
    ProgramResultsReport,
    ScheduledGreeting,
    SellerToolSettings,
    ShippingSubsidy,
    Upsell,
)


class SingleRowAdmin(admin.ModelAdmin):
    """A model of one row (settings, a program): added once, with the defaults filled in, then
    edited; never deleted. Its pages offer no "add" once the row exists, and its add page no "Save
    and add another" (there is no other)."""

    def has_add_permission(self, request):
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(SellerToolSettings)
class SellerToolSettingsAdmin(SingleRowAdmin):
    list_display = (
        "__str__",
        "price_drop_threshold_percent",
        "price_drop_window_minutes",
        "greeting_visit_days",
        "greeting_period_days",
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the tools write; staff look them up, never edit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PriceDropNotice)
class PriceDropNoticeAdmin(ReadOnlyAdmin):
    list_display = (
        "listing",
        "previous_price",
        "new_price",
        "currency",
        "likers_reached",
        "window_start",
        "created_at",
    )
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


# Community programs ----------------------------------------------------------------------------


class ProgramForm(forms.ModelForm):
    def _post_clean(self):
        super()._post_clean()
        # Every constraint, those on fields the form leaves out too (the budget against what is spent).
        try:
            self.instance.validate_constraints()
        except ValidationError as exc:
            self._update_errors(exc)


PROGRAM_MODELS = {
    model.KEY: model for model in (FirstSaleShippingProgram, FirstSaleNudgeProgram, AmbassadorProgram, MentoringProgram)
}


def audit_lines(change: ProgramChange) -> list[str]:
    """A program change as people read it: one "field: old → new" line per setting changed, with
    the field's name in the admin's words and its values as the form shows them."""
    model = PROGRAM_MODELS.get(change.program)
    lines = []
    for name, values in change.changes.items():
        try:
            label = model._meta.get_field(name).verbose_name if model else name
        except FieldDoesNotExist:
            label = name
        lines.append(f"{label}: {_audit_value(values['old'])} → {_audit_value(values['new'])}")
    return lines


def _audit_value(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and "T" in value:  # a date and time, as the audit keeps it (ISO 8601)
        try:
            return f"{timezone.localtime(datetime.fromisoformat(value)):%Y-%m-%d %H:%M %Z}"
        except ValueError:
            pass
    return str(value)


def audit_html(change: ProgramChange):
    return format_html_join("", "{}<br>", ((line,) for line in audit_lines(change)))


class ProgramAdmin(SingleRowAdmin):
    """A program's one row, saved through services.update_program, so that an edit here is
    validated and audited like one through the API."""

    form = ProgramForm
    readonly_fields = ("updated_at", "recent_changes")

    def save_model(self, request, obj, form, change):
        program = services.update_program(
            program_class=self.model,
            changed_by=request.user,
            **{name: form.cleaned_data[name] for name in form.changed_data},
        )
        obj.pk = program.pk

    @admin.display(description="recent changes")
    def recent_changes(self, program):
        changes = (
            ProgramChange.objects.filter(program=program.KEY)
            .select_related("changed_by")
            .order_by("-changed_at", "-pk")[:10]
        )
        return (
            format_html_join(
                "",
                "<p>{} by {}:<br>{}</p>",
                (
                    (f"{change.changed_at:%Y-%m-%d %H:%M}", change.changed_by or "someone deleted", audit_html(change))
                    for change in changes
                ),
            )
            or "none yet"
        )


@admin.register(FirstSaleShippingProgram)
class FirstSaleShippingProgramAdmin(ProgramAdmin):
    list_display = (
        "__str__",
        "active",
        "starts_at",
        "ends_at",
        "currency",
        "amount",
        "per_order_cap",
        "budget",
        "spent",
    )
    readonly_fields = ("spent", "remaining", *ProgramAdmin.readonly_fields)


@admin.register(FirstSaleNudgeProgram)
class FirstSaleNudgeProgramAdmin(ProgramAdmin):
    list_display = (
        "__str__",
        "active",
        "starts_at",
        "ends_at",
        "first_nudge_after_days",
        "days_between_nudges",
        "stale_after_days",
        "reprice_percent",
    )


@admin.register(FirstSaleNudge)
class FirstSaleNudgeAdmin(ReadOnlyAdmin):
    """The nudges sellers got before their first sale: which, about what, when."""

    list_display = ("seller", "kind", "listing", "suggested_price", "sent_at")
    list_filter = ("kind",)
    search_fields = ("seller__username", "listing__title")
    raw_id_fields = ("seller", "listing")
    list_select_related = ("seller", "listing")
    date_hierarchy = "sent_at"


@admin.register(AmbassadorProgram)
class AmbassadorProgramAdmin(ProgramAdmin):
    list_display = (
        "__str__",
        "active",
        "starts_at",
        "ends_at",
        "min_shares_of_others",
        "min_available_listings",
        "min_sales",
        "min_rating",
        "max_average_ship_days",
    )


@admin.register(Ambassador)
class AmbassadorAdmin(ReadOnlyAdmin):
    """Granted and revoked by the periodic task from the program's bar; opted in by themselves."""

    list_display = ("user", "granted_at", "revoked_at", "mentoring_opt_in")
    list_filter = ("mentoring_opt_in", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(MentoringProgram)
class MentoringProgramAdmin(ProgramAdmin):
    list_display = (
        "__str__",
        "active",
        "starts_at",
        "ends_at",
        "mentors_per_group_min",
        "mentors_per_group_max",
        "max_groups_per_mentor",
        "grace_days",
    )


class MentoringSeatInline(admin.TabularInline):
    model = MentoringSeat
    raw_id_fields = ("mentor",)
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MentoringGroup)
class MentoringGroupAdmin(ReadOnlyAdmin):
    """Groups are made by joinMentoring's matching and closed by the periodic task."""

    list_display = ("mentee", "status", "created_at", "closed_at")
    list_filter = ("status",)
    search_fields = ("mentee__username", "seats__mentor__username")
    raw_id_fields = ("mentee", "conversation")
    list_select_related = ("mentee",)
    inlines = [MentoringSeatInline]
    date_hierarchy = "created_at"


@admin.register(ProgramChange)
class ProgramChangeAdmin(ReadOnlyAdmin):
    """The audit: who changed which program setting, from what to what."""

    list_display = ("program", "changed_by", "changed_at", "what_changed")
    list_filter = ("program",)
    search_fields = ("changed_by__username",)
    list_select_related = ("changed_by",)
    date_hierarchy = "changed_at"
    fields = ("program", "changed_by", "changed_at", "what_changed")
    readonly_fields = ("what_changed",)

    @admin.display(description="changes")
    def what_changed(self, change):
        return audit_html(change)


@admin.register(ShippingSubsidy)
class ShippingSubsidyAdmin(ReadOnlyAdmin):
    """The first-sale program's ledger: what each first order cost the budget, and what cancelled
    ones gave back."""

    list_display = ("order", "entry", "amount", "currency", "created_at")
    list_filter = ("entry",)
    search_fields = ("order__seller__username", "order__buyer__username")
    raw_id_fields = ("program", "order")
    date_hierarchy = "created_at"


@admin.register(ProgramResultsReport)
class ProgramResultsAdmin(ReadOnlyAdmin):
    """The figures of staff GraphQL's programResults, computed on opening (aggregate SQL), drawn as
    charts by Chart.js (served from node_modules as static/vendor/chart.js, see settings), the
    tables below them."""

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        weeks = request.GET.get("weeks", "12")
        weeks = min(max(int(weeks), 1), 104) if weeks.isdigit() else 12
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Program results",
            "weeks": weeks,
        }
        page = program_charts.program_charts(now=timezone.now(), weeks=weeks)
        context |= {"results": page.results, "charts": page.charts}
        return TemplateResponse(request, "admin/sellers/program_results.html", context)
