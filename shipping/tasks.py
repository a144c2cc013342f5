"""Celery side of shipping: small idempotent tasks calling services, and the beat schedule's."""

from celery import shared_task
from django.utils import timezone

from shipping import services


@shared_task(acks_late=True)
def buy_label(shipment_id: int) -> None:
    services.buy_label(shipment_id=shipment_id)


@shared_task(acks_late=True)
def refund_label(shipment_id: int) -> None:
    services.refund_label(shipment_id=shipment_id)


@shared_task
def sweep_labels() -> None:
    """Labels a lost task, a killed worker or a carrier fault left unbought (or, for a cancelled
    order, not given back): try those due again."""
    for shipment_id in services.labels_due(now=timezone.now()):
        buy_label.delay(shipment_id)
    for shipment_id in services.refunds_due():
        refund_label.delay(shipment_id)
