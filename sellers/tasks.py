"""Celery side of the seller tools: small idempotent tasks calling the services."""

from celery import shared_task
from django.utils import timezone

from sellers import services


@shared_task
def send_scheduled_greeting(scheduled_id: int) -> None:
    """An automatic greeting whose delay is over (a no-op if it was processed already)."""
    services.send_scheduled_greeting(scheduled_id=scheduled_id, now=timezone.now())


@shared_task
def send_due_greetings() -> None:
    """Beat: send automatic greetings that are due but whose task never ran."""
    services.send_due_greetings(now=timezone.now())


@shared_task
def send_first_sale_nudges() -> None:
    """Beat: one nudge to each seller with no sale who is due one (the program's cadence)."""
    services.send_first_sale_nudges(now=timezone.now())


@shared_task
def refresh_ambassadors() -> None:
    """Beat: grant and revoke ambassador status by the staff's bar."""
    services.refresh_ambassadors(now=timezone.now())


@shared_task
def close_mentoring_groups() -> None:
    """Beat: close the mentoring groups whose mentee sold their first item the grace period ago."""
    services.close_mentoring_groups(now=timezone.now())
