"""Payments after commit: each payment brought in line with its order (captured while it stands;
voided or refunded once cancelled; refunded once refunded after shipping) by one step of a table,
run by tasks once the order's transaction committed, and payments caught in flight found again.

Locks: a payment row is claimed with a conditional UPDATE of its status before the provider is
called, so concurrent runs never call twice; no lock is held during the call.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from config.errors import ServiceError
from marketplace import payments
from marketplace.models import Order, Payment
from marketplace.services.orders import cancel_order

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _PaymentStep:
    busy: str  # the in-flight status: whoever sets it makes the provider call
    call: Callable[[payments.PaymentProvider, Payment], None]
    done: str
    failed: str


def _capture(provider, payment):
    provider.capture(reference=payment.reference, amount=payment.amount, idempotency_key=f"capture:{payment.pk}")


def _void_payment(provider, payment):
    provider.void(reference=payment.reference, idempotency_key=f"void:{payment.reference}")


def _refund(provider, payment):
    provider.refund(reference=payment.reference, amount=payment.amount, idempotency_key=f"refund:{payment.pk}")


# A hold the provider refuses to release lapses by itself: voided either way.
_VOID = _PaymentStep(Payment.Status.VOIDING, _void_payment, Payment.Status.VOIDED, Payment.Status.VOIDED)


# Orders whose buyer gets the money back.
MONEY_RETURNED = frozenset({Order.Status.CANCELLED, Order.Status.REFUNDED})

# (payment status, does the buyer get the money back) → the step that brings the payment in line
# with its order
PAYMENT_STEPS = {
    (Payment.Status.AUTHORIZED, False): _PaymentStep(
        Payment.Status.CAPTURING, _capture, Payment.Status.CAPTURED, Payment.Status.CAPTURE_FAILED
    ),
    (Payment.Status.AUTHORIZED, True): _VOID,
    (Payment.Status.CAPTURE_FAILED, True): _VOID,
    (Payment.Status.CAPTURED, True): _PaymentStep(
        Payment.Status.REFUNDING, _refund, Payment.Status.REFUNDED, Payment.Status.REFUND_FAILED
    ),
}


# Where a payment caught in flight (a killed worker) goes back to, to be tried again.
PAYMENT_RETRY_FROM = {
    Payment.Status.CAPTURING: Payment.Status.AUTHORIZED,
    Payment.Status.VOIDING: Payment.Status.AUTHORIZED,
    Payment.Status.REFUNDING: Payment.Status.CAPTURED,
}


def settle_payment(*, payment_id: int) -> None:
    """Bring a payment in line with its order: capture it while the order stands, void or refund it
    once cancelled. Runs after commit, outside any lock; each provider call is claimed by a
    conditional UPDATE into an in-flight status, so concurrent or repeated runs call once. A refunded
    order's captured payment is refunded like a cancelled one's. A failed
    capture cancels the order (items back in stock) and then voids the authorization; if the order
    has shipped meanwhile, staff find the failed capture in the admin."""
    while True:
        payment = Payment.objects.select_related("order").get(pk=payment_id)
        step = PAYMENT_STEPS.get((payment.status, payment.order.status in MONEY_RETURNED))
        if step is None or not _move_payment(payment.pk, payment.status, step.busy):
            return  # settled, or another run holds this step and will take the next
        try:
            step.call(payments.provider(payment.provider), payment)
        except payments.PaymentDeclined as declined:
            _move_payment(payment.pk, step.busy, step.failed, detail=str(declined)[:200])
            if step.failed == Payment.Status.CAPTURE_FAILED:
                try:
                    cancel_order(order=payment.order, actor=None)
                except ServiceError:
                    logger.warning("Payment %s failed to capture after order %s shipped.", payment.pk, payment.order_id)
                    return
        except BaseException:
            # The provider was not reached, or its answer was lost: back to where a retry (or the
            # sweep) calls again with the same idempotency key.
            _move_payment(payment.pk, step.busy, payment.status)
            raise
        else:
            _move_payment(payment.pk, step.busy, step.done)


def stalled_payments(*, now: datetime) -> list[int]:
    """Payments left out of line with their order for CHECKOUT_SWEEP_GRACE (a lost task, a worker
    killed mid call), put back where settle_payment takes them again; returns their ids. The
    provider calls carry idempotency keys, so a call that did go through is not made twice."""
    stalled = Payment.objects.filter(updated_at__lt=now - settings.CHECKOUT_SWEEP_GRACE)
    ids = set()
    for busy, before in PAYMENT_RETRY_FROM.items():
        caught = list(stalled.filter(status=busy).values_list("pk", flat=True)[:1000])
        Payment.objects.filter(pk__in=caught, status=busy).update(status=before, updated_at=now)
        ids.update(caught)
    unsettled = stalled.filter(
        Q(status=Payment.Status.AUTHORIZED)
        | Q(status__in=[Payment.Status.CAPTURED, Payment.Status.CAPTURE_FAILED], order__status__in=MONEY_RETURNED)
    )
    ids.update(unsettled.values_list("pk", flat=True)[:1000])
    return sorted(ids)


def _move_payment(payment_id: int, from_status: str, to_status: str, detail: str = "") -> bool:
    return bool(
        Payment.objects.filter(pk=payment_id, status=from_status).update(
            status=to_status, detail=detail, updated_at=timezone.now()
        )
    )
