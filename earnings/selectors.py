"""Reads of earnings shaped for what the seller sees (fixed queries per list)."""

from django.db.models import QuerySet

from earnings.models import EarningsAccount, LedgerEntry, Payout, PayoutAccount


def balances(seller) -> QuerySet[EarningsAccount]:
    """The seller's balances, one per currency they ever earned in, by currency."""
    return EarningsAccount.objects.filter(seller=seller).order_by("currency")


def entries(seller) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(seller=seller).select_related("order", "payout")


def payouts(seller) -> QuerySet[Payout]:
    return Payout.objects.filter(seller=seller)


def payout_account(seller) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(seller=seller).first()
