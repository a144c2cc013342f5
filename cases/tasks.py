"""Celery side of cases: small idempotent tasks calling services."""

from celery import shared_task

from cases import services


@shared_task(acks_late=True)
def buy_return_label(case_id: int) -> None:
    """A refunded case's return label, bought once the refund committed (idempotent)."""
    services.attach_return_label(case_id=case_id)
