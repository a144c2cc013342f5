"""Celery side of notifications: small idempotent tasks calling the fan-out engine.

Every task here may run twice (acks_late with reject_on_worker_lost re-delivers a task whose
worker died) and that is harmless: inbox rows and decisions have unique keys, hand-offs skip
what is no longer pending. What a lost message would have done, `sweep_outbox` does later.
"""

from datetime import datetime, timedelta

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from notifications import delivery, fanout
from notifications.models import PushDecision


@shared_task
def fan_out_chunk(event_id: int, index: int) -> None:
    """Inbox rows and push decisions for ~1,000 recipients of an event, then their hand-off."""
    decisions = fanout.process_chunk(event_id=event_id, index=index, now=timezone.now())
    if decisions is not None:
        _hand_off(decisions, attempt=0)


@shared_task
def hand_off_pushes(decision_ids: list[int], attempt: int = 0) -> None:
    """Hand off pending pushes again: after a rate limit, a stalled worker or a staff resend."""
    _hand_off(PushDecision.objects.filter(pk__in=decision_ids), attempt=attempt)


@shared_task
def release_held_pushes() -> None:
    """Quiet hours over: decide again for held pushes and send those that may go now."""
    release_due_pushes(now=timezone.now())


def release_due_pushes(*, now: datetime) -> None:
    batch = settings.NOTIFICATIONS_CHUNK_SIZE
    for _ in range(settings.NOTIFICATIONS_RELEASE_BATCHES_PER_RUN):
        released = fanout.release_held(now=now, limit=batch)
        if released:
            _hand_off(PushDecision.objects.filter(pk__in=released), attempt=0)
        if len(released) < batch:
            break


@shared_task
def sweep_outbox() -> None:
    """Re-enqueue fan-out chunks and hand-offs that never finished (lost message, killed worker)."""
    enqueue_unfinished_work(now=timezone.now())


def enqueue_unfinished_work(*, now: datetime) -> None:
    grace = settings.NOTIFICATIONS_SWEEP_GRACE
    for event_id, index in fanout.claim_unfinished_chunks(now=now, grace=grace):
        fan_out_chunk.delay(event_id, index)
    stalled = fanout.claim_stalled_hand_offs(now=now, grace=grace)
    enqueue_hand_offs(stalled)


def enqueue_hand_offs(decision_ids: list[int]) -> None:
    size = settings.NOTIFICATIONS_CHUNK_SIZE
    for start in range(0, len(decision_ids), size):
        hand_off_pushes.delay(decision_ids[start : start + size])


def _hand_off(decisions: QuerySet[PushDecision], *, attempt: int) -> None:
    now = timezone.now()
    rate_limited = delivery.hand_off(decisions, now=now)
    if not rate_limited:
        return
    if attempt >= settings.NOTIFICATIONS_PUSH_MAX_RETRIES:
        delivery.give_up(rate_limited, detail=f"rate limited by the provider {attempt + 1} times; gave up")
        return
    countdown = retry_countdown(attempt)
    delivery.defer(rate_limited, until=now + timedelta(seconds=countdown))
    hand_off_pushes.apply_async((rate_limited,), {"attempt": attempt + 1}, countdown=countdown)


def retry_countdown(attempt: int) -> int:
    """Exponential backoff with full jitter (Celery's own retry_backoff formula), at least a second."""
    return max(
        1,
        get_exponential_backoff_interval(
            settings.NOTIFICATIONS_PUSH_RETRY_BACKOFF,
            attempt,
            settings.NOTIFICATIONS_PUSH_RETRY_BACKOFF_MAX,
            full_jitter=True,
        ),
    )
