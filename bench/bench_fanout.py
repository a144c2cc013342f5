"""Price drop to 10,000 likers (DESIGN.md §6): wall time, Celery tasks, inbox insert rate vs COPY.

Celery runs eagerly here: the chunk tasks run one after another in this process when notify()'s
transaction commits, so the wall time is one process doing all the work (a deployment spreads
the ~10 tasks over its workers). Pushes go to the in-memory backend; broadcasts to the configured
channel layer. Two fan-outs are timed: the first one these people ever get (it creates their
notification settings rows) and a second one (a push today already counts against their cap).
"""

import json
import time
from contextlib import contextmanager

from celery.signals import task_prerun
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app
from notifications import fanout, services
from notifications.models import Device, Kind, Notification, Outcome, PushDecision
from notifications.push import MemoryBackend

RECIPIENTS = 10_000
NAME = "fanout"


def run(report):
    if connection.vendor != "postgresql":
        print(f"{NAME:>12} | needs PostgreSQL (DATABASE_URL=postgres://...); nothing measured")
        return
    with _embedded_runtime():
        recipient_ids = _people_with_devices(RECIPIENTS)
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(f"{NAME:>12} | Celery eager (tasks in this process), memory push backend, channel layer {layer}")
        for label, listing in (("first fan-out", 1), ("second fan-out", 2)):
            wall, tasks, insert_seconds = _fan_out(recipient_ids, listing)
            report.add(NAME, f"{label}: 10,000 inbox rows + pushes", wall, "s", target="≤ 2 s", met=wall <= 2)
            report.add(NAME, f"{label}: Celery tasks", tasks, "tasks", target="≤ 20", met=tasks <= 20)
            copy_seconds = _copy_same_rows(recipient_ids, listing)
            rate, copy_rate = RECIPIENTS / insert_seconds, RECIPIENTS / copy_seconds
            report.add(
                NAME,
                f"{label}: inbox insert rate",
                rate,
                "rows/s",
                baseline=copy_rate,
                baseline_label="raw COPY",
                target="≥ 0.33× COPY",
                met=rate >= copy_rate / 3,
            )


@contextmanager
def _embedded_runtime():
    configured = (app.conf.task_always_eager, settings.NOTIFICATIONS_PUSH_BACKEND)
    app.conf.task_always_eager, settings.NOTIFICATIONS_PUSH_BACKEND = True, "memory"
    try:
        yield
    finally:
        app.conf.task_always_eager, settings.NOTIFICATIONS_PUSH_BACKEND = configured
        MemoryBackend.reset()


def _people_with_devices(count: int) -> list[int]:
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"liker{n}", email=f"liker{n}@bench.test", password="!") for n in range(count)], batch_size=2000
    )
    ids = list(User.objects.filter(username__startswith="liker").values_list("pk", flat=True))
    Device.objects.bulk_create(
        [Device(user_id=pk, platform=Device.Platform.FCM, token=f"bench-token-{pk}") for pk in ids], batch_size=2000
    )
    return ids


def _fan_out(recipient_ids, listing) -> tuple[float, int, float]:
    """Seconds from notify()'s commit until every inbox row and hand-off is done, tasks run, and
    seconds spent in the inbox INSERT statements."""
    started, insert_seconds = [], 0.0
    insert_rows = fanout._insert_inbox_rows

    def timed_insert(*args, **kwargs):
        nonlocal insert_seconds
        began = time.perf_counter()
        try:
            return insert_rows(*args, **kwargs)
        finally:
            insert_seconds += time.perf_counter() - began

    def count_task(sender=None, **_):
        started.append(sender.name)

    MemoryBackend.reset()
    fanout._insert_inbox_rows = timed_insert
    task_prerun.connect(count_task)
    try:
        with transaction.atomic():
            services.notify(
                recipient_ids=recipient_ids,
                kind=Kind.PRICE_DROP,
                title="Price drop on a liked item",
                body="Vintage Levi's 501 — now $38 (was $45)",
                dedupe_key=f"price_drop:{listing}:38.00",
                coalesce_key=f"listing:{listing}",
                data={"listingId": listing, "price": "38.00"},
            )
            committing = time.perf_counter()
        wall = time.perf_counter() - committing
    finally:
        task_prerun.disconnect(count_task)
        fanout._insert_inbox_rows = insert_rows
    dedupe_key = f"price_drop:{listing}:38.00"
    assert Notification.objects.filter(dedupe_key=dedupe_key).count() == len(recipient_ids)
    assert PushDecision.objects.filter(notification__dedupe_key=dedupe_key, outcome=Outcome.SENT).count() == len(
        recipient_ids
    )
    assert len(MemoryBackend.sent) == len(recipient_ids)
    return wall, len(started), insert_seconds


def _copy_same_rows(recipient_ids, listing) -> float:
    """The same inbox rows (another dedupe key) through psycopg 3's COPY, the fastest way in."""
    now, data = timezone.now(), json.dumps({"listingId": listing, "price": "38.00"})
    columns = ("recipient_id", "kind", "title", "body", "data", "dedupe_key", "created_at")
    rows = [
        (
            pk,
            Kind.PRICE_DROP.value,
            "Price drop on a liked item",
            "Vintage Levi's 501 — now $38 (was $45)",
            data,
            f"copy:{listing}",
            now,
        )
        for pk in recipient_ids
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        with cursor.cursor.copy(f"COPY {Notification._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - began
