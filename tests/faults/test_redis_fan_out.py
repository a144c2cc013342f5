"""Redis dies in the middle of a notification fan-out and comes back empty: nothing is lost,
nothing is doubled.

A private redis-server is the broker of this process and of a real Celery worker (and the
worker's channel layer). Once the worker has taken the first chunks, Redis is SIGKILLed, taking
with it the queued chunk tasks and the live announcements of the chunks in flight, which still
finish and send their pushes. Redis starts again with nothing in it (no persistence), the same
worker reconnects by itself, and the beat sweep (run with its grace period over) re-enqueues
the chunks never done.
"""

import re

import pytest
from django.db.models import Count
from django.utils import timezone

from config.celery import app
from notifications import services, tasks
from notifications.models import FanOutChunk, Notification, NotificationEvent, Outcome, PushDecision
from tests.helpers import people_with_devices
from tests.processes import use_broker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 3_000
CHUNK_SIZE = 200  # 15 chunks: plenty still queued when Redis dies


@pytest.fixture
def private_broker(processes):
    """A private Redis as the Celery broker of this process (and of the workers given its url)."""
    server = processes.redis().start()
    shared_url = app.conf.broker_url
    use_broker(server.url)
    app.conf.task_always_eager = False
    yield server
    use_broker(shared_url)


def connections_to_broker(worker) -> int:
    return len(re.findall(r"Connected to redis://", worker.log.read_text()))


def test_redis_killed_and_restarted_empty_mid_fan_out_loses_and_doubles_nothing(private_broker, processes, settings):
    settings.NOTIFICATIONS_CHUNK_SIZE = CHUNK_SIZE
    recipient_ids = people_with_devices(RECIPIENTS)
    worker = processes.worker(REDIS_URL=private_broker.url, NOTIFICATIONS_PUSH_BACKEND="memory")
    event = services.notify(
        recipient_ids=recipient_ids,
        kind="price_drop",
        title="Price drop",
        body="Now $38",
        dedupe_key="price_drop:7:38.00",
        coalesce_key="listing:7",
    )
    chunks_done = FanOutChunk.objects.filter(event=event)

    wait_for(lambda: "fan_out_chunk" in worker.log.read_text(), 30, "the worker to take the first chunks")
    private_broker.kill()
    # The chunks the worker had taken finish while Redis is gone, and hand off their pushes: only
    # their live announcements are lost (the inbox has the rows). The queued ones are gone.
    wait_for(chunks_done.exists, 30, "the chunks taken to be done during the outage")
    pending = PushDecision.objects.filter(event=event, outcome=Outcome.PENDING)
    wait_for(lambda: not pending.exists(), 10, "the pushes of the chunks done to go out")
    assert chunks_done.count() < event.chunk_count

    private_broker.start()
    wait_for(lambda: connections_to_broker(worker) >= 2, 30, "the worker to reconnect")
    tasks.enqueue_unfinished_work(now=timezone.now() + settings.NOTIFICATIONS_SWEEP_GRACE)
    wait_for(
        lambda: (
            NotificationEvent.objects.filter(pk=event.pk, completed_at__isnull=False).exists()
            and not PushDecision.objects.filter(event=event, outcome=Outcome.PENDING).exists()
        ),
        40,
        "the fan-out to finish",
    )

    assert worker.poll() is None, "the worker died with Redis instead of reconnecting"
    notifications = Notification.objects.filter(dedupe_key="price_drop:7:38.00")
    assert sorted(notifications.values_list("recipient_id", flat=True)) == sorted(recipient_ids)
    decisions = PushDecision.objects.filter(event=event)
    assert decisions.count() == RECIPIENTS
    # Every push was handed to the provider exactly once, the sweep's hand-offs included.
    assert list(decisions.values_list("outcome", "attempts").annotate(n=Count("pk")).order_by()) == [
        (Outcome.SENT, 1, RECIPIENTS)
    ]
