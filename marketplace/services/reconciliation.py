"""Payments brought in line with what their provider says: its webhook events (each processed
once), the sweep's look-ups after a lost answer; and holds no order came of, released. The
provider's word only moves a payment forward, so a replayed, stale or reordered event never
undoes a later state.

Locks: the payment row (select_for_update) while an event is applied; no lock over a provider call.
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace import payments, tasks
from marketplace.models import Payment, ProcessedProviderEvent

S = Payment.Status
# Where the provider's word may move a payment from, per state it reports.
PROVIDER_MOVES = {
    S.CAPTURED: frozenset({S.AUTHORIZED, S.CAPTURING, S.CAPTURE_FAILED}),
    S.VOIDED: frozenset({S.AUTHORIZED, S.CAPTURING, S.CAPTURE_FAILED, S.VOIDING}),
    S.REFUNDED: frozenset({S.CAPTURED, S.REFUNDING, S.REFUND_FAILED}),
}
_UNSETTLED = frozenset().union(*PROVIDER_MOVES.values())
# What the sweep asks the provider about: holds and calls in flight (a failure waits for staff).
_ASKED = frozenset({S.AUTHORIZED, S.CAPTURING, S.VOIDING, S.REFUNDING})


def apply_provider_event(*, provider: str, event: payments.ProviderEvent) -> bool:
    """Apply a verified webhook event of `provider` (its dotted path); False when it is about no
    payment of ours (ignored, nothing stored: a payment still being written hears of it from the
    sweep). An event id seen before changes nothing."""
    if event.reference is None:
        return False
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(provider=provider, reference=event.reference).first()
        if payment is None:
            return False
        try:
            with transaction.atomic():
                ProcessedProviderEvent.objects.create(
                    provider=provider, event_id=event.id, type=event.type, payment=payment
                )
        except IntegrityError:
            return True  # processed before
        _move_forward(payment, event.status, event.detail)
    return True


def reconcile_stalled_payments(*, now: datetime) -> list[int]:
    """Ask the provider where the payments left unsettled for CHECKOUT_SWEEP_GRACE are (a capture
    whose answer was lost may have gone through) and move them forward; returns those moved.
    A provider not answering is asked again at the next sweep."""
    stalled = Payment.objects.filter(status__in=_ASKED, updated_at__lt=now - settings.CHECKOUT_SWEEP_GRACE).order_by(
        "updated_at"
    )
    moved = []
    for payment in stalled[:200]:
        try:
            status = payments.provider(payment.provider).status(reference=payment.reference)
        except payments.PaymentUnavailable:
            continue
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if _move_forward(locked, status):
                moved.append(payment.pk)
    return moved


def release_orphaned_holds(*, now: datetime) -> list[str]:
    """Void the authorizations held at the provider for PAYMENT_ORPHANED_HOLD_AFTER that no payment
    row knows: a purchase that never wrote its order (a killed process, a client that never came
    back after a lost answer or a 3-D Secure challenge). Returns their references."""
    provider = payments.provider()
    try:
        held = provider.holds(created_before=now - settings.PAYMENT_ORPHANED_HOLD_AFTER)
    except payments.PaymentUnavailable:
        return []
    known = set(
        Payment.objects.filter(provider=settings.PAYMENT_PROVIDER, reference__in=held).values_list(
            "reference", flat=True
        )
    )
    released = []
    for reference in held:
        if reference in known:
            continue
        try:
            provider.void(reference=reference, idempotency_key=f"void:{reference}")
        except (payments.PaymentDeclined, payments.PaymentUnavailable):
            continue  # taken meanwhile, or not reached: the next run sees it again
        released.append(reference)
    return released


def _move_forward(payment: Payment, status: str | None, detail: str = "") -> bool:
    if payment.status not in PROVIDER_MOVES.get(status, ()):
        if detail and payment.status in _UNSETTLED:
            Payment.objects.filter(pk=payment.pk).update(detail=detail)
        return False
    Payment.objects.filter(pk=payment.pk).update(status=status, detail=detail, updated_at=timezone.now())
    # The order may want otherwise (captured, but cancelled meanwhile): settle once committed.
    transaction.on_commit(lambda: tasks.settle_payment.delay(payment.pk), robust=True)
    return True
