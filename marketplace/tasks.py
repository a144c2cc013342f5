"""Celery side of the marketplace: small idempotent tasks calling services, and the beat schedule's."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from marketplace import events, services


@shared_task(acks_late=True)
def make_listing_image_renditions(image_id: int) -> None:
    services.make_image_renditions(image_id=image_id)


@shared_task(acks_late=True)
def settle_payment(payment_id: int) -> None:
    """Capture, void or refund a payment once its order's change committed."""
    services.settle_payment(payment_id=payment_id)


@shared_task(acks_late=True)
def dispatch_event(event_id: int) -> None:
    events.dispatch(event_id)


@shared_task
def expire_offers() -> int:
    return services.expire_offers(now=timezone.now())


@shared_task
def auto_accept_orders() -> int:
    return services.auto_accept_orders(now=timezone.now())


@shared_task
def sweep_checkout() -> None:
    """Re-run what a lost task or a killed worker left undone: payment settling and event dispatch."""
    now = timezone.now()
    services.reconcile_stalled_payments(now=now)  # first: a lost answer may have gone through
    for payment_id in services.stalled_payments(now=now):
        settle_payment.delay(payment_id)
    for event_id in events.undispatched(before=now - settings.CHECKOUT_SWEEP_GRACE):
        dispatch_event.delay(event_id)


@shared_task
def release_orphaned_holds() -> int:
    """Void card holds no order came of (the provider keeps them for days otherwise)."""
    return len(services.release_orphaned_holds(now=timezone.now()))
