"""Seller tools (the figures staff tune, price-drop notices, greetings and their limits) and the
community programs for sellers before their first sale (shipping discount, nudges, ambassadors,
mentoring), each run by staff from one row, every change audited."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import LessThan
from django.utils import timezone

from marketplace.models import Listing, ListingPriceChange, Offer, Order
from social.models import Conversation, Message

# Broker countdowns stay well under the visibility timeout (1 h): a longer one would be redelivered.
AUTO_GREETING_MAX_DELAY_MINUTES = 30


class SellerToolSettings(models.Model):
    """The figures of the seller tools, one row that staff edit in the admin (DESIGN.md §2)."""

    price_drop_threshold_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("90"))],
        help_text="A drop notifies likers when the price is at least this far below the lowest price they "
        "were last told of.",
    )
    price_drop_window_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="Further drops within this time of a notified drop replace its notification (latest price) "
        "instead of sending another.",
    )
    greeting_visit_days = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="A seller may greet people who visited their closet within this many days.",
    )
    greeting_period_days = models.PositiveIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="At most one greeting per visitor per seller within this many days.",
    )
    liker_offer_min_discount_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("60"))],
        help_text="An offer to likers is at least this far below the list price, and a liker is offered again "
        "only this far below the last offer they got.",
    )
    liker_reoffer_lookback_days = models.PositiveIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text='How far back "the last offer they got" looks.',
    )

    class Meta:
        verbose_name = verbose_name_plural = "seller tool settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="seller_tool_settings_single_row")]

    def __str__(self):
        return "Seller tool settings"

    @classmethod
    def current(cls) -> "SellerToolSettings":
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def liker_reoffer_lookback(self) -> timedelta:
        return timedelta(days=self.liker_reoffer_lookback_days)

    @property
    def price_drop_window(self) -> timedelta:
        return timedelta(minutes=self.price_drop_window_minutes)

    @property
    def greeting_visit_window(self) -> timedelta:
        return timedelta(days=self.greeting_visit_days)

    @property
    def greeting_period(self) -> timedelta:
        return timedelta(days=self.greeting_period_days)


class PriceDropNotice(models.Model):
    """A price drop likers were told of, with how many were reached (the seller's view).

    A drop within the window of an earlier notice joins it (`window_start`): likers keep one
    notification, rewritten with the latest price.
    """

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_drop_notices")
    price_change = models.OneToOneField(ListingPriceChange, on_delete=models.CASCADE, related_name="price_drop_notice")
    window_start = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The notice whose notification this drop rewrote; empty when it sent its own.",
    )
    previous_price = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="The lowest price likers had been told of before the window."
    )
    new_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    likers_reached = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["listing", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_price__lt=models.F("previous_price")), name="price_drop_notice_is_a_drop"
            )
        ]

    def __str__(self):
        return (
            f"{self.listing_id}: {self.previous_price} → {self.new_price} {self.currency}, {self.likers_reached} likers"
        )


class GreetingTemplate(models.Model):
    """A seller's saved greeting; `{visitor_name}` and `{listing_title}` are filled in when sent."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="greeting_templates")
    name = models.CharField(max_length=60)
    body = models.TextField(max_length=1000, validators=[MaxLengthValidator(1000)])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint("seller", Lower("name"), name="greeting_template_name_unique")]

    def __str__(self):
        return f"{self.seller_id}: {self.name}"


class AutoGreeting(models.Model):
    """A seller's rule for greeting closet visitors automatically, some minutes after their visit."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="auto_greeting"
    )
    enabled = models.BooleanField(default=False)
    template = models.ForeignKey(GreetingTemplate, on_delete=models.PROTECT, related_name="+")
    listing = models.ForeignKey(
        Listing,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Attached to each greeting, and its title fills {listing_title}.",
    )
    delay_minutes = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(AUTO_GREETING_MAX_DELAY_MINUTES)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(delay_minutes__lte=AUTO_GREETING_MAX_DELAY_MINUTES), name="auto_greeting_delay_range"
            )
        ]

    def __str__(self):
        return f"Auto-greeting of {self.seller_id} ({'on' if self.enabled else 'off'})"


class Greeting(models.Model):
    """A greeting a seller sent a closet visitor, as a direct message (by hand or automatically)."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="greetings_sent")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="greetings_received")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="greeting")
    template = models.ForeignKey(GreetingTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["seller", "-created_at"])]

    def __str__(self):
        return f"{self.seller_id} greeted {self.visitor_id}"


class LastGreeting(models.Model):
    """When a seller last greeted a visitor: one row per pair, claimed by a conditional UPDATE so
    two greetings within the period can never both pass, whatever the concurrency."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    greeted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "visitor"], name="last_greeting_per_pair")]


class GreetingOptOut(models.Model):
    """A member who turned greetings off: no seller may greet them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="greeting_opt_out"
    )
    created_at = models.DateTimeField(default=timezone.now)


class ScheduledGreeting(models.Model):
    """An automatic greeting waiting out its delay after a closet visit; `outcome` once processed."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    detail = models.CharField(max_length=200, blank=True, help_text="Why it was skipped.")
    greeting = models.OneToOneField(Greeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "visitor"],
                condition=Q(processed_at__isnull=True),
                name="scheduled_greeting_one_pending",
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(processed_at__isnull=True), name="scheduled_greeting_due_idx")
        ]

    def __str__(self):
        return f"{self.seller_id} → {self.visitor_id} at {self.due_at:%Y-%m-%d %H:%M}"


class OfferToLikers(models.Model):
    """A seller's private offer to the likers of a listing: one marketplace Offer per liker reached."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="offers_to_likers")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3)
    offers = models.ManyToManyField(Offer, related_name="+")
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Likers not offered: one pending already, or a recent offer not 10% higher."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "offers to likers"
        indexes = [models.Index(fields=["listing", "-created_at"])]

    def __str__(self):
        return f"{self.amount} {self.currency} to the likers of {self.listing_id}"


class Upsell(models.Model):
    """Items a seller suggested to go with an order, sent to its buyer as a direct message (the
    items attached to it); one per order."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="upsell")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="upsell")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Upsell on order {self.order_id}"


# Community programs ----------------------------------------------------------------------------
#
# Staff run each program from one row (the admin, or staff-only GraphQL); every change goes
# through sellers.services.update_program, which validates it and writes a ProgramChange with
# each field's old and new value in the same transaction.


class ProgramKey(models.TextChoices):
    FIRST_SALE_SHIPPING = "first_sale_shipping", "First-sale shipping discount"
    FIRST_SALE_NUDGES = "first_sale_nudges", "First-sale nudges"
    AMBASSADORS = "ambassadors", "Ambassadors"
    MENTORING = "mentoring", "First-sale mentoring"


PROGRAM_ROW = 1  # each program is one row, with this id


def _a_year_from_now():
    return timezone.now() + timedelta(days=365)


class Program(models.Model):
    """What every program has: a switch and the dates it runs between (it runs while both allow)."""

    KEY: ProgramKey

    active = models.BooleanField(default=False)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(default=_a_year_from_now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(pk=PROGRAM_ROW), name="%(class)s_single_row"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="%(class)s_ends_after_start",
                violation_error_message="A program ends after it starts.",
            ),
        ]

    def __str__(self):
        return self.KEY.label

    @classmethod
    def current(cls):
        program, _ = cls.objects.get_or_create(pk=PROGRAM_ROW)
        return program

    @classmethod
    def locked(cls):
        """The program's row, locked until the transaction ends; None until it was first saved."""
        return cls.objects.select_for_update().filter(pk=PROGRAM_ROW).first()

    @staticmethod
    def running_at(now) -> Q:
        return Q(active=True, starts_at__lte=now, ends_at__gt=now)

    def is_running(self, now) -> bool:
        return self.active and self.starts_at <= now < self.ends_at

    @classmethod
    def settings_fields(cls) -> list[str]:
        """What staff set (and the audit records): every editable field."""
        return [field.name for field in cls._meta.concrete_fields if field.editable and not field.primary_key]


def _marketplace_currency(code: str):
    if code not in settings.MARKETPLACE_CURRENCIES:
        raise ValidationError(f"Choose one of {', '.join(settings.MARKETPLACE_CURRENCIES)}.", code="invalid_currency")


def _money_field(default: str, help_text: str):
    return models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(default), help_text=help_text)


class FirstSaleShippingProgram(Program):
    """A new seller's listings carry "first purchase from this seller gets discounted shipping";
    the platform pays it from `budget` (sellers.services.fund_first_sale_shipping)."""

    KEY = ProgramKey.FIRST_SALE_SHIPPING

    currency = models.CharField(
        max_length=3,
        default=settings.MARKETPLACE_DEFAULT_CURRENCY,
        validators=[_marketplace_currency],
        help_text="Listings and orders in this currency take part.",
    )
    amount = _money_field("5.00", "Off the label fee of a seller's first order (what the banner promises).")
    per_order_cap = _money_field("6.49", "The most the platform pays for one order.")
    budget = _money_field("0.00", "The most the platform pays in all.")
    # Debits less returned subsidies: written by the checkout's conditional UPDATE, never by a form.
    spent = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"), editable=False)

    class Meta(Program.Meta):
        verbose_name = verbose_name_plural = "first-sale shipping discount"
        constraints = [
            *Program.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount__gt=0, per_order_cap__gt=0, budget__gte=0, spent__gte=0),
                name="first_sale_shipping_amounts_positive",
                violation_error_message="Amounts are positive.",
            ),
            # spent <= budget, to the cent (SQLite compares decimals as floats).
            models.CheckConstraint(
                condition=LessThan(models.F("spent"), models.F("budget") + Decimal("0.005")),
                name="first_sale_shipping_within_budget",
                violation_error_message="The budget cannot be below what is already spent.",
            ),
        ]

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent


class ShippingSubsidy(models.Model):
    """The first-sale program's ledger: a debit written in the transaction of the order that took
    the discount, and a credit when that order is cancelled (the subsidy goes back to the budget)."""

    class Entry(models.TextChoices):
        DEBIT = "debit", "Debit"
        CREDIT = "credit", "Credit (order cancelled)"

    program = models.ForeignKey(FirstSaleShippingProgram, on_delete=models.PROTECT, related_name="ledger")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    entry = models.CharField(max_length=6, choices=Entry.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "shipping subsidies"
        constraints = [
            models.UniqueConstraint(fields=["order", "entry"], name="shipping_subsidy_once_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="shipping_subsidy_positive"),
        ]

    def __str__(self):
        return f"{self.get_entry_display()} {self.amount} {self.currency} · order {self.order_id}"


class ProgramChange(models.Model):
    """One change of a program's settings: who made it, when, and each field's old and new value."""

    program = models.CharField(max_length=32, choices=ProgramKey.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(help_text='{"field": {"old": ..., "new": ...}}, values as text.')

    class Meta:
        indexes = [models.Index(fields=["program", "-changed_at"])]

    def __str__(self):
        return f"{self.get_program_display()} · {', '.join(self.changes)}"


class FirstSaleNudgeProgram(Program):
    """Sellers with no sale get one targeted nudge at a time (sellers.services.send_first_sale_nudges,
    run by beat), sent through notify(), so the engine's caps, quiet hours and opt-outs apply."""

    KEY = ProgramKey.FIRST_SALE_NUDGES

    first_nudge_after_days = models.PositiveIntegerField(
        default=3,
        validators=[MaxValueValidator(90)],
        help_text="Days after joining before a seller without a sale gets a first nudge.",
    )
    days_between_nudges = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="At least this many days between two nudges to one seller.",
    )
    stale_after_days = models.PositiveIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="A listing with no price change and no new like for this long is stale (a reprice nudge); a "
        "seller who shared none of their listings for this long gets a share nudge.",
    )
    reprice_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("50"))],
        help_text="A reprice nudge suggests a price this far below the current one.",
    )

    class Meta(Program.Meta):
        verbose_name = verbose_name_plural = "first-sale nudges"

    @property
    def first_nudge_after(self) -> timedelta:
        return timedelta(days=self.first_nudge_after_days)

    @property
    def cadence(self) -> timedelta:
        return timedelta(days=self.days_between_nudges)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(days=self.stale_after_days)


class FirstSaleNudge(models.Model):
    """A nudge a seller got before their first sale: which one, about which listing, when. The
    cadence is read from here, and a seller is never nudged twice the same way about one listing."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="first_sale_nudges")
    kind = models.CharField(max_length=32, help_text="The rule that chose it (sellers.services.NUDGE_RULES).")
    listing = models.ForeignKey(Listing, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    suggested_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name, verbose_name_plural = "first-sale nudge sent", "first-sale nudges sent"
        indexes = [models.Index(fields=["seller", "-sent_at"]), models.Index(fields=["listing", "kind"])]

    def __str__(self):
        return f"{self.kind} to {self.seller_id} at {self.sent_at:%Y-%m-%d %H:%M}"


class AmbassadorProgram(Program):
    """Staff's bar for ambassadors; a beat task grants the status to every member who meets all of
    it and revokes it from those who no longer do (sellers.services.refresh_ambassadors)."""

    KEY = ProgramKey.AMBASSADORS

    min_shares_of_others = models.PositiveIntegerField(default=5000, help_text="Shares of other members' listings.")
    min_available_listings = models.PositiveIntegerField(default=50)
    min_sales = models.PositiveIntegerField(default=15, help_text="Orders not cancelled.")
    min_rating = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("4.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
        help_text="Average of buyers' 1–5 ratings; a member nobody rated meets only 0.",
    )
    max_average_ship_days = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("3.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("30"))],
        help_text="Average time from payment to shipping under this many days (it takes a shipped order).",
    )

    class Meta(Program.Meta):
        verbose_name = verbose_name_plural = "ambassador program"

    @property
    def max_average_ship_time(self) -> timedelta:
        return timedelta(days=float(self.max_average_ship_days))


class Ambassador(models.Model):
    """A member who met the ambassadors' bar: `revoked_at` once they no longer do (cleared if they
    meet it again). Ambassadors who opt in mentor new sellers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="ambassador"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    mentoring_opt_in = models.BooleanField(default=False, help_text="They take part in mentoring groups.")

    class Meta:
        indexes = [
            models.Index(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, mentoring_opt_in=True),
                name="ambassador_mentor_idx",
            )
        ]

    def __str__(self):
        return f"Ambassador {self.user_id}{' (revoked)' if self.revoked_at else ''}"


class MentoringProgram(Program):
    """A seller before their first sale joins mentoring and is matched with ambassadors who answer
    their questions in a group conversation, until their first sale plus a grace period."""

    KEY = ProgramKey.MENTORING

    mentors_per_group_min = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A group starts only with at least this many free mentors.",
    )
    mentors_per_group_max = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    max_groups_per_mentor = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Open groups a mentor is matched with at most.",
    )
    grace_days = models.PositiveSmallIntegerField(
        default=14, validators=[MaxValueValidator(90)], help_text="A group closes this long after the first sale."
    )

    class Meta(Program.Meta):
        verbose_name = verbose_name_plural = "first-sale mentoring"
        constraints = [
            *Program.Meta.constraints,
            models.CheckConstraint(
                condition=Q(mentors_per_group_min__lte=models.F("mentors_per_group_max")),
                name="mentoring_group_size_range",
                violation_error_message="The fewest mentors of a group cannot exceed the most.",
            ),
        ]

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.grace_days)


class MentoringGroup(models.Model):
    """A new seller (the mentee) and the ambassadors matched to mentor them, talking in a group
    conversation; closed (the conversation keeps its history) after the first sale and the grace."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentoring_groups")
    mentors = models.ManyToManyField(settings.AUTH_USER_MODEL, through="MentoringSeat", related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.PROTECT, related_name="mentoring_group")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"], condition=Q(status="open"), name="mentoring_group_one_open_per_mentee"
            )
        ]
        indexes = [models.Index(fields=["status", "mentee"], name="mentoring_group_status_idx")]

    def __str__(self):
        return f"Mentoring of {self.mentee_id} ({self.get_status_display().lower()})"


class MentoringSeat(models.Model):
    """A mentor in a group; a mentor's open seats are their load."""

    group = models.ForeignKey(MentoringGroup, on_delete=models.CASCADE, related_name="seats")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentoring_seats")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "mentor"], name="mentoring_seat_once")]
        indexes = [models.Index(fields=["mentor", "group"])]


class ProgramResultsReport(ProgramChange):
    """No data of its own: the admin's page of program results (sellers.selectors.program_results)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "program results"
