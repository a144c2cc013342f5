"""Seller earnings: a ledger of immutable entries per seller and currency, the balances they add up
to, payouts to a connected account, and the figures staff set (commission, payout schedule)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY = {"max_digits": 10, "decimal_places": 2}


class EarningsSettings(models.Model):
    """One row staff edit in the admin: the commission rule and the payout schedule. Amounts are
    read in the currency of the order (or of the balance) they apply to."""

    class Schedule(models.TextChoices):
        MANUAL = "manual", "Manual (sellers request payouts)"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    commission_threshold = models.DecimalField(
        **MONEY,
        default=Decimal("15.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Sales below this price pay the flat fee; sales at or above it pay the percentage.",
    )
    commission_flat_fee = models.DecimalField(
        **MONEY, default=Decimal("2.95"), validators=[MinValueValidator(Decimal("0"))]
    )
    commission_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("20.0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("90"))],
    )
    payout_schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.WEEKLY)
    payout_weekday = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(6)],
        help_text="For weekly payouts: 0 is Monday, 6 is Sunday (UTC).",
    )
    payout_minimum = models.DecimalField(
        **MONEY,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Scheduled payouts and payout requests move at least this much.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "earnings settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="earnings_settings_single_row")]

    def __str__(self):
        return "Earnings settings"

    @classmethod
    def current(cls) -> "EarningsSettings":
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class EarningsAccount(models.Model):
    """A seller's balances in one currency, kept equal to the sum of their ledger entries: every
    entry is booked with this row locked, in the transaction that changes these columns."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="earnings_accounts")
    currency = models.CharField(max_length=3)
    pending = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="Sold, not yet accepted by the buyer.")
    available = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="Accepted, not yet paid out.")
    paid_out = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="Sent to the payout account.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "currency"], name="earnings_account_per_currency")]

    def __str__(self):
        return f"{self.seller_id} · {self.currency}"


class LedgerEntry(models.Model):
    """One movement of a seller's money, never changed once written except its move from pending to
    available when the buyer accepts. `key` names what booked it (the order and kind, the payout),
    so a re-delivered or reordered event books nothing twice."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        COMMISSION = "commission", "Commission"
        SHIPPING_SUBSIDY = "shipping_subsidy", "Shipping subsidy"
        REFUND = "refund", "Refund"
        PAYOUT = "payout", "Payout"
        REVERSAL = "reversal", "Payout reversal"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        AVAILABLE = "available", "Available"

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY, help_text="Signed: what the seller earns is positive.")
    state = models.CharField(max_length=9, choices=State.choices)
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    payout = models.ForeignKey(
        "earnings.Payout", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    key = models.CharField(max_length=64, unique=True, help_text="What booked it, once: e.g. order:12:sale.")
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["seller", "-created_at", "-id"], name="ledger_seller_history_idx"),
            models.Index(fields=["order", "state"], name="ledger_order_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="pending", available_at__isnull=True)
                | Q(state="available", available_at__isnull=False),
                name="ledger_entry_available_when_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(kind="payout") | Q(amount__lt=0, payout__isnull=False), name="ledger_payout_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(amount__gt=0, payout__isnull=False),
                name="ledger_reversal_positive",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency} · {self.get_state_display()}"


class PayoutAccount(models.Model):
    """Where a seller's payouts go: a connected account at the payout provider (Stripe Connect)."""

    seller = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_account")
    provider = models.CharField(max_length=100, help_text="Dotted path of the provider class.")
    account_id = models.CharField(max_length=100, help_text="The provider's id of the connected account.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "account_id"], name="payout_account_unique")]

    def __str__(self):
        return f"{self.account_id} of {self.seller_id}"


class Payout(models.Model):
    """A seller's whole available balance in one currency, sent to their payout account.

    REQUESTED with its (negative) ledger entry, then SENDING while the provider is called (whoever
    moved it there makes the call, so concurrent runs pay once), then PAID, or FAILED with a
    reversal entry that gives the amount back to the available balance."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SENDING = "sending", "Sending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REQUESTED)
    provider = models.CharField(max_length=100)
    destination = models.CharField(max_length=100, help_text="The connected account paid.")
    reference = models.CharField(max_length=100, blank=True, help_text="The provider's transfer id.")
    detail = models.CharField(max_length=200, blank=True, help_text="The provider's reason for a failure.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["seller", "-created_at", "-id"], name="payout_seller_history_idx"),
            models.Index(fields=["status", "updated_at"], name="payout_status_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")]

    def __str__(self):
        return f"Payout {self.pk} · {self.amount} {self.currency} · {self.get_status_display()}"
