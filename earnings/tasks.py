"""Celery side of earnings: sending payouts after commit, the payout schedule and its sweep."""

from celery import shared_task
from django.utils import timezone

from earnings import services


@shared_task(acks_late=True)
def send_payout(payout_id: int) -> None:
    services.send_payout(payout_id=payout_id)


@shared_task
def pay_out_on_schedule() -> int:
    return services.scheduled_payouts(now=timezone.now())


@shared_task
def sweep_payouts() -> None:
    """Send again what a lost task or a killed worker left requested or sending."""
    for payout_id in services.stalled_payouts(now=timezone.now()):
        send_payout.delay(payout_id)
