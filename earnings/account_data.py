"""What deleting an account and exporting its data mean for earnings: the ledger is a financial
record and stays; an account goes only once its money is settled."""

from django.db.models import Q

from config.errors import ServiceError
from earnings.errors import EarningsError
from earnings.models import EarningsAccount, LedgerEntry, Payout


def check_deletion(user) -> None:
    unsettled = EarningsAccount.objects.filter(seller=user).filter(~Q(pending=0) | ~Q(available=0)).exists()
    in_flight = Payout.objects.filter(seller=user, status__in=[Payout.Status.REQUESTED, Payout.Status.SENDING]).exists()
    if unsettled or in_flight:
        raise ServiceError(
            EarningsError.BALANCE_NOT_SETTLED,
            "You still have earnings pending or to be paid out: once they are paid, you can delete your account.",
        )


def export(user) -> dict:
    return {
        "balances": list(
            EarningsAccount.objects.filter(seller=user).values("currency", "pending", "available", "paid_out")
        ),
        "entries": list(
            LedgerEntry.objects.filter(seller=user)
            .order_by("pk")
            .values("created_at", "kind", "amount", "currency", "state", "available_at", "order_id", "payout_id")
        ),
        "payouts": list(
            Payout.objects.filter(seller=user)
            .order_by("pk")
            .values("created_at", "amount", "currency", "status", "destination", "reference", "paid_at")
        ),
    }
