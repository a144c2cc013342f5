"""A worker killed in the middle of a 10,000-person fan-out loses nothing and duplicates nothing.

Real processes on the real runtime: a `celery -A config worker` subprocess on the test's Redis
database and the test's PostgreSQL database. It is SIGKILLed once some chunks are done (its
reserved messages stay unacknowledged in Redis until the visibility timeout, an hour away), a new
worker starts, and the beat sweep (run here with its grace period already over) re-enqueues what
never finished. The in-memory push backend lives in the worker, so the decision rows tell.
"""

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from notifications import services, tasks
from notifications.models import FanOutChunk, Notification, NotificationEvent, Outcome, PushDecision
from tests.helpers import people_with_devices
from tests.processes import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 10_000


def test_killing_the_worker_part_way_loses_and_duplicates_nothing(workers, processes):
    recipient_ids = people_with_devices(RECIPIENTS)
    first = workers()
    event = services.notify(
        recipient_ids=recipient_ids,
        kind="price_drop",
        title="Price drop",
        body="Now $38",
        dedupe_key="price_drop:42:38.00",
        coalesce_key="listing:42",
    )
    chunks_done = FanOutChunk.objects.filter(event=event)

    wait_for(lambda: chunks_done.exists(), 30, "the first chunk")
    processes.kill(first)
    assert chunks_done.count() < event.chunk_count, "the worker finished before it could be killed"

    workers()
    tasks.enqueue_unfinished_work(now=timezone.now() + settings.NOTIFICATIONS_SWEEP_GRACE)
    wait_for(
        lambda: (
            NotificationEvent.objects.filter(pk=event.pk, completed_at__isnull=False).exists()
            and not PushDecision.objects.filter(outcome=Outcome.PENDING).exists()
        ),
        40,
        "the fan-out to finish",
    )

    notifications = Notification.objects.filter(dedupe_key="price_drop:42:38.00")
    assert notifications.count() == RECIPIENTS
    assert set(notifications.values_list("recipient_id", flat=True)) == set(recipient_ids)
    assert not notifications.values("recipient").annotate(rows=Count("pk")).filter(rows__gt=1).exists()
    decisions = PushDecision.objects.filter(event=event)
    assert decisions.count() == RECIPIENTS
    assert dict(decisions.values_list("outcome").annotate(n=Count("pk"))) == {Outcome.SENT: RECIPIENTS}
