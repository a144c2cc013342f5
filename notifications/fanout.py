"""The engine behind notify(): chunks of an outbox event become inbox rows and push decisions.

Everything here is set-based (a few statements per chunk of ~1,000 people, never one per person)
and idempotent: the unique (recipient, dedupe_key) key on the inbox decides who is new, so a chunk
that runs twice, or an event notified twice, changes nothing the second time. Celery lives in
tasks.py; these functions only read and write the database.
"""

import json
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from config.realtime import broadcast_many_on_commit, user_group
from notifications.models import (
    CATEGORY_OF_KIND,
    Device,
    FanOutChunk,
    Notification,
    NotificationEvent,
    NotificationSettings,
    Outcome,
    PushDecision,
    PushSegment,
)
from notifications.rules import RecipientState, decide

# Pushes older than this can't affect a decision: the cap counts since local midnight (at most a
# day and a DST hour ago) and the coalescing window is shorter.
_LOOKBACK = timedelta(hours=26)


def process_chunk(*, event_id: int, index: int, now: datetime) -> QuerySet | None:
    """Record chunk `index` of an event: inbox rows, push decisions, the chunk marker.

    Returns the chunk's decisions (a queryset) for the caller to hand off, or None when the event
    is gone. New inbox rows are announced to `notificationAdded` subscribers on commit.
    """
    event = NotificationEvent.objects.filter(pk=event_id).first()
    if event is None:
        return None
    recipient_ids = event.chunk(index)
    with transaction.atomic():
        replaced = _replace_inbox_rows(event, recipient_ids) if event.replaces else []
        created = _insert_inbox_rows(event, recipient_ids, now)
        if created:
            _decide_pushes(event, created, now)
        if created or replaced:
            announcements = [
                (user_group(recipient_id), {"notification_id": notification_id})
                for notification_id, recipient_id in sorted(created + replaced)
            ]
            broadcast_many_on_commit(announcements)
        _mark_chunk_done(event, index, now)
    # Recipient ids are sorted, so the chunk is exactly this id range of the event's decisions.
    return PushDecision.objects.filter(
        event=event, recipient_id__gte=recipient_ids[0], recipient_id__lte=recipient_ids[-1]
    )


def _insert_inbox_rows(event: NotificationEvent, recipient_ids: list[int], now: datetime) -> list[tuple[int, int]]:
    """One INSERT ... SELECT for the whole chunk; returns (notification id, recipient id) of new rows.

    Only active users get a row (one deleted since notify() must not fail the chunk), and
    ON CONFLICT DO NOTHING on (recipient, dedupe_key) skips anyone already told of this event.
    Rows go in recipient order so two chunks racing on the same key cannot deadlock.
    """
    constants = {
        "event": event.pk,
        "kind": event.kind,
        "title": event.title,
        "body": event.body,
        "data": event.data,
        "target_content_type": event.target_content_type_id,
        "target_object_id": event.target_object_id,
        "dedupe_key": event.dedupe_key,
        "created_at": now,
    }
    fields = [Notification._meta.get_field(name) for name in constants]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [
        field.get_db_prep_save(value, connection) for field, value in zip(fields, constants.values(), strict=False)
    ]
    ids_sql, ids_param = _id_table(recipient_ids)
    user_table = quote(get_user_model()._meta.db_table)
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} (recipient_id, {columns}) "
        f"SELECT r.id, {', '.join(['%s'] * len(values))} FROM ({ids_sql}) AS r "
        f"JOIN {user_table} AS u ON u.id = r.id AND u.is_active "
        f"ORDER BY r.id "
        f"ON CONFLICT (recipient_id, dedupe_key) DO NOTHING RETURNING id, recipient_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, ids_param])
        return cursor.fetchall()


def _replace_inbox_rows(event: NotificationEvent, recipient_ids: list[int]) -> list[tuple[int, int]]:
    """Overwrite these people's rows with the event's dedupe key that an earlier event wrote;
    returns their (notification id, recipient id). Time, read state and push decision stay.

    Rows of a later event are left alone: events of one key are created in order (their cause is
    serialised, e.g. by the listing's row lock), so the highest event id holds the latest text.
    """
    rows = (
        Notification.objects.select_for_update()
        .filter(dedupe_key=event.dedupe_key, recipient_id__in=recipient_ids)
        .filter(Q(event__isnull=True) | Q(event_id__lt=event.pk))
        .order_by("recipient_id")
    )
    replaced = list(rows.values_list("pk", "recipient_id"))
    if replaced:
        Notification.objects.filter(pk__in=[pk for pk, _ in replaced]).update(
            event=event,
            kind=event.kind,
            title=event.title,
            body=event.body,
            data=event.data,
            target_content_type_id=event.target_content_type_id,
            target_object_id=event.target_object_id,
        )
    return replaced


def _id_table(ids: list[int]) -> tuple[str, object]:
    """A one-column table of ids from a single parameter, so 1,000 ids are one bound value."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[]) AS id", list(ids)
    return "SELECT value AS id FROM json_each(%s)", json.dumps(ids)


def _decide_pushes(event: NotificationEvent, created: list[tuple[int, int]], now: datetime):
    category = CATEGORY_OF_KIND[event.kind]
    states = load_recipient_states([recipient_id for _, recipient_id in created], now)
    decisions = []
    for notification_id, recipient_id in created:
        state = states[recipient_id]
        decision = decide(
            state,
            category=category,
            coalesce_key=event.coalesce_key,
            now=now,
            coalesce_window=settings.NOTIFICATIONS_COALESCE_WINDOW,
        )
        if decision.outcome is Outcome.PENDING:
            state.record_push(now, category, event.coalesce_key)
        decisions.append(
            PushDecision(
                notification_id=notification_id,
                event=event,
                recipient_id=recipient_id,
                category=category,
                coalesce_key=event.coalesce_key,
                outcome=decision.outcome,
                detail=decision.detail,
                decided_at=now,
                due_at=now if decision.outcome is Outcome.PENDING else decision.due_at,
            )
        )
    PushDecision.objects.bulk_create(decisions, batch_size=settings.NOTIFICATIONS_CHUNK_SIZE)


def _mark_chunk_done(event: NotificationEvent, index: int, now: datetime):
    # Locking the event serialises the last two chunks' count, so one of them sees all markers.
    NotificationEvent.objects.select_for_update().filter(pk=event.pk).values_list("pk").get()
    FanOutChunk.objects.bulk_create([FanOutChunk(event=event, index=index, completed_at=now)], ignore_conflicts=True)
    if FanOutChunk.objects.filter(event=event).count() >= event.chunk_count:
        NotificationEvent.objects.filter(pk=event.pk, completed_at__isnull=True).update(completed_at=now)


def load_recipient_states(user_ids: list[int], now: datetime) -> dict[int, RecipientState]:
    """Preferences, limits, devices and recent pushes of these people, in five queries.

    Their settings rows are locked (in id order, so concurrent chunks never deadlock) until the
    caller's transaction ends: two events deciding for the same person take turns, so a cap or a
    coalescing window is never overrun by a race.
    """
    _create_missing_settings(user_ids)
    rows = (
        NotificationSettings.objects.select_for_update(of=("self",))
        .filter(user_id__in=user_ids)
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__time_zone",
            "muted_categories",
            "quiet_hours_start",
            "quiet_hours_end",
            "daily_cap_override",
            "segment__daily_cap",
        )
    )
    default_cap = default_daily_cap()
    with_device = set(Device.objects.filter(user_id__in=user_ids, is_active=True).values_list("user_id", flat=True))
    recent = defaultdict(list)
    for recipient_id, decided_at, category, coalesce_key in PushDecision.objects.filter(
        recipient_id__in=user_ids, outcome__in=[Outcome.PENDING, Outcome.SENT], decided_at__gte=now - _LOOKBACK
    ).values_list("recipient_id", "decided_at", "category", "coalesce_key"):
        recent[recipient_id].append((decided_at, category, coalesce_key))
    states = {}
    for user_id, time_zone, muted, quiet_start, quiet_end, override, segment_cap in rows:
        states[user_id] = RecipientState(
            user_id=user_id,
            time_zone=ZoneInfo(time_zone),
            muted_categories=frozenset(muted),
            quiet_hours=(quiet_start, quiet_end) if quiet_start is not None else None,
            daily_cap=override or segment_cap or default_cap,
            has_device=user_id in with_device,
            recent_pushes=recent[user_id],
        )
    return states


def _create_missing_settings(user_ids: list[int]):
    """Default settings rows for whoever has none, in one statement (a chunk is mostly first-timers
    the first time, and already there after)."""
    table = connection.ops.quote_name(NotificationSettings._meta.db_table)
    ids_sql, ids_param = _id_table(user_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, muted_categories) SELECT r.id, %s FROM ({ids_sql}) AS r "
            f"ORDER BY r.id ON CONFLICT (user_id) DO NOTHING",
            [NotificationSettings._meta.get_field("muted_categories").get_db_prep_save([], connection), ids_param],
        )


def default_daily_cap() -> int:
    segment_cap = PushSegment.objects.filter(is_default=True).values_list("daily_cap", flat=True).first()
    return segment_cap or settings.NOTIFICATIONS_DEFAULT_DAILY_CAP


def release_held(*, now: datetime, limit: int) -> list[int]:
    """Decide again for held pushes whose quiet hours are over; returns the ids now pending.

    The newest push about a thing goes first, so older ones about the same thing coalesce into it,
    and the cap of the day they are released in applies.
    """
    with transaction.atomic():
        due = list(
            PushDecision.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(outcome=Outcome.HELD, due_at__lte=now)
            .order_by("due_at")[:limit]
        )
        if not due:
            return []
        states = load_recipient_states(sorted({decision.recipient_id for decision in due}), now)
        for decision in sorted(due, key=lambda d: d.decided_at, reverse=True):
            state = states[decision.recipient_id]
            verdict = decide(
                state,
                category=decision.category,
                coalesce_key=decision.coalesce_key,
                now=now,
                coalesce_window=settings.NOTIFICATIONS_COALESCE_WINDOW,
            )
            if verdict.outcome is Outcome.PENDING:
                state.record_push(now, decision.category, decision.coalesce_key)
            decision.outcome, decision.detail, decision.decided_at = verdict.outcome, verdict.detail, now
            decision.due_at = now if verdict.outcome is Outcome.PENDING else verdict.due_at
        PushDecision.objects.bulk_update(due, ["outcome", "detail", "decided_at", "due_at"])
    return [decision.pk for decision in due if decision.outcome == Outcome.PENDING]


def claim_unfinished_chunks(*, now: datetime, grace: timedelta, limit: int = 100) -> list[tuple[int, int]]:
    """(event id, chunk index) of chunks not done though enqueued more than `grace` ago.

    Their events are marked enqueued again now, so the next sweep gives the new tasks time.
    """
    with transaction.atomic():
        events = list(
            NotificationEvent.objects.select_for_update(skip_locked=True)
            .filter(completed_at__isnull=True, enqueued_at__lte=now - grace)
            .order_by("enqueued_at")
            .only("pk", "recipient_count", "chunk_size")[:limit]
        )
        done = defaultdict(set)
        for event_id, index in FanOutChunk.objects.filter(event__in=events).values_list("event_id", "index"):
            done[event_id].add(index)
        NotificationEvent.objects.filter(pk__in=[event.pk for event in events]).update(enqueued_at=now)
    return [(event.pk, index) for event in events for index in range(event.chunk_count) if index not in done[event.pk]]


def claim_stalled_hand_offs(*, now: datetime, grace: timedelta, limit: int = 20_000) -> list[int]:
    """Pending pushes nobody handed off within `grace` (their worker died); due again from now."""
    ids = list(
        PushDecision.objects.filter(outcome=Outcome.PENDING, due_at__lte=now - grace)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    PushDecision.objects.filter(pk__in=ids, outcome=Outcome.PENDING).update(due_at=now)
    return ids
