"""A worker killed in the middle of a 10,000-person fan-out loses nothing and duplicates nothing.

Real processes on the real runtime: a `celery -A config worker` subprocess on the test's Redis
database and the test's PostgreSQL database. It is SIGKILLed once some chunks are done (its
reserved messages stay unacknowledged in Redis until the visibility timeout, an hour away), a new
worker starts, and the beat sweep (run here with its grace period already over) re-enqueues what
never finished. The in-memory push backend lives in the worker, so the decision rows tell.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from config.celery import app
from notifications import services, tasks
from notifications.models import Device, FanOutChunk, Notification, NotificationEvent, Outcome, PushDecision

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 10_000
PROJECT = Path(__file__).resolve().parents[2]
# Celery's Redis transport keys: the queue and the messages reserved but never acknowledged.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def workers(tmp_path):
    """start() launches a worker on the test database and Redis; every one is gone after the test."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(*BROKER_KEYS)
    app.conf.task_always_eager = False  # notify() enqueues to Redis like production
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    environment = os.environ | {
        "DATABASE_URL": f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL, "NOTIFICATIONS_PUSH_BACKEND": "memory", "CELERY_TASK_ALWAYS_EAGER": "0"}
    started = []

    def start():
        log = tmp_path / f"worker{len(started)}.log"
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool=prefork",
             "--concurrency=2", "--loglevel=info", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"fault{len(started)}@%h"],
            cwd=PROJECT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 30, "the worker to start")
        assert process.poll() is None, log.read_text()
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    broker.delete(*BROKER_KEYS)


def people_with_devices(count):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"liker{n}", email=f"liker{n}@fault.test", password="!")
                              for n in range(count)], batch_size=2000)
    ids = list(User.objects.values_list("pk", flat=True))
    Device.objects.bulk_create([Device(user_id=pk, platform=Device.Platform.FCM, token=f"token-{pk}") for pk in ids],
                               batch_size=2000)
    return ids


def test_killing_the_worker_part_way_loses_and_duplicates_nothing(workers):
    recipient_ids = people_with_devices(RECIPIENTS)
    first = workers()
    event = services.notify(recipient_ids=recipient_ids, kind="price_drop", title="Price drop", body="Now $38",
                            dedupe_key="price_drop:42:38.00", coalesce_key="listing:42")
    chunks_done = FanOutChunk.objects.filter(event=event)

    wait_for(lambda: chunks_done.exists(), 30, "the first chunk")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    assert chunks_done.count() < event.chunk_count, "the worker finished before it could be killed"

    workers()
    tasks.enqueue_unfinished_work(now=timezone.now() + settings.NOTIFICATIONS_SWEEP_GRACE)
    wait_for(lambda: NotificationEvent.objects.filter(pk=event.pk, completed_at__isnull=False).exists()
             and not PushDecision.objects.filter(outcome=Outcome.PENDING).exists(), 40, "the fan-out to finish")

    notifications = Notification.objects.filter(dedupe_key="price_drop:42:38.00")
    assert notifications.count() == RECIPIENTS
    assert set(notifications.values_list("recipient_id", flat=True)) == set(recipient_ids)
    assert not notifications.values("recipient").annotate(rows=Count("pk")).filter(rows__gt=1).exists()
    decisions = PushDecision.objects.filter(event=event)
    assert decisions.count() == RECIPIENTS
    assert dict(decisions.values_list("outcome").annotate(n=Count("pk"))) == {Outcome.SENT: RECIPIENTS}
