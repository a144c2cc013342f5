"""The show event log: every change a viewer sees, numbered per show.

Writers (live.services) hold the show's row lock and call `record`, which takes the next number
from `Show.last_seq` and stores the event in the same transaction: events commit in the order of
their numbers, and a rolled-back change never reaches anyone. On commit the event goes to the
show's channel-layer group (config.realtime), the pub/sub Redis layer in production.

A subscriber (live.room_stream) joins the group first, then catches up from the log: the events
after the client's `afterSeq` while the log still holds every one of them (at most
LIVE_REPLAY_MAX_EVENTS, none older than LIVE_REPLAY_MAX_AGE), else a `snapshot` of the room as
of the last number; it then streams live events past what it sent. Each message carries the
server's time of sending (`server_time`), besides the event's own time (`at`). Viewer counts are not logged
(they are coalesced, see live.presence): each carries the number of the last event its
subscriber was sent, so any event's `seq` is a valid place to resume from.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis import RedisError

from config.realtime import broadcast
from live import payloads, presence, selectors
from live.models import CoHost, Show, ShowEvent, ShowStream
from marketplace.models import Listing


def show_group(show_id: int) -> str:
    return f"show-{show_id}"


def record(show: Show, type: str, data: dict, *, now) -> ShowEvent:
    """Append an event to the log of `show`, which the caller has locked (select_for_update)."""
    show.last_seq += 1
    Show.objects.filter(pk=show.pk).update(last_seq=show.last_seq)
    event = ShowEvent.objects.create(show=show, seq=show.last_seq, type=type, data=data, created_at=now)
    group = show_group(show.pk)
    transaction.on_commit(lambda: broadcast(group, sent(as_message(event), now=timezone.now())), robust=True)
    return event


def as_message(event: ShowEvent) -> dict:
    """An event as subscribers get it (the root of the ShowEvent GraphQL type)."""
    return {"seq": event.seq, "type": event.type, "at": event.created_at.isoformat(), "data": event.data}


def sent(message: dict, *, now) -> dict:
    """The message stamped with the server's time of sending (`serverTime`: clients align their
    clocks with it). A broadcast is stamped once for all its subscribers."""
    return message | {"server_time": now.isoformat()}


def viewer_count_message(count: int, *, now) -> dict:
    return {"seq": None, "type": ShowEvent.Type.VIEWER_COUNT, "at": now.isoformat(), "data": {"viewer_count": count}}


def catch_up(show_id: int, after_seq: int | None, *, now) -> list[dict]:
    """What a subscriber that was sent the events up to `after_seq` (None: nothing yet) gets
    before live events: the events it missed, or one snapshot when the log no longer holds them."""
    if after_seq is not None:
        missed = _logged_after(show_id, after_seq, now=now)
        if missed is not None:
            return missed
    return [snapshot(show_id, now=now)]


def _logged_after(show_id: int, after_seq: int, *, now) -> list[dict] | None:
    last_seq = Show.objects.filter(pk=show_id).values_list("last_seq", flat=True).get()
    missed = last_seq - after_seq
    if not 0 <= missed <= settings.LIVE_REPLAY_MAX_EVENTS:
        return None
    if missed == 0:
        return []  # the usual answer of a subscription checking for lost events
    events = list(
        ShowEvent.objects.filter(
            show_id=show_id, seq__gt=after_seq, seq__lte=last_seq, created_at__gte=now - settings.LIVE_REPLAY_MAX_AGE
        ).order_by("seq")
    )
    return [as_message(event) for event in events] if len(events) == missed else None


def snapshot(show_id: int, *, now) -> dict:
    """The room as of its last event. Viewers pour in when a show goes live, and each new one gets
    a snapshot: one made less than LIVE_SNAPSHOT_REUSE_SECONDS ago (by any process, through the
    cache) at the show's current number is handed out again, its viewer count as of then, for
    one query instead of a locked read of the whole room per viewer."""
    last_seq = Show.objects.filter(pk=show_id).values_list("last_seq", flat=True).get()
    try:
        return cache.get_or_set(
            f"live:snapshot:{show_id}:{last_seq}",
            lambda: _snapshot(show_id, now=now),
            settings.LIVE_SNAPSHOT_REUSE_SECONDS,
        )
    except RedisError:  # the cache out of reach costs the reuse, not the snapshot
        return _snapshot(show_id, now=now)


def _snapshot(show_id: int, *, now) -> dict:
    """The show's row lock keeps writers out while the room is read, so the snapshot is exactly
    the sum of the events up to its `seq`."""
    with transaction.atomic():
        show = Show.objects.select_for_update().get(pk=show_id)
        on_sale = selectors.items(Listing.objects.filter(status__in=selectors.LINE_UP_STATUSES))
        featured = on_sale.filter(pk=show.featured_listing_id).first() if show.featured_listing_id else None
        line_up = on_sale.filter(show_entries__show_id=show.pk).order_by("show_entries__position", "show_entries__pk")
        auction = selectors.running_auction(show)
        recent = list(selectors.messages(show, None).order_by("-created_at", "-pk")[: settings.LIVE_RECENT_MESSAGES])
        cohosts = CoHost.objects.filter(show_id=show.pk, status=CoHost.Status.ACCEPTED).select_related("user")
        state = {
            "state": show.state,
            "featured": payloads.item(featured) if featured else None,
            "line_up": [payloads.item(listing) for listing in line_up],
            "auction": payloads.auction(auction) if auction else None,
            "messages": [payloads.message(message) for message in reversed(recent)],
            "cohosts": [payloads.user(cohost.user) for cohost in cohosts.order_by("responded_at", "pk")],
            "slow_mode_seconds": show.slow_mode_seconds,
            "stream_state": ShowStream.objects.filter(show_id=show.pk).values_list("state", flat=True).first(),
            "viewer_count": presence.backend().counts([show.pk], time.time())[show.pk],
        }
    return {"seq": show.last_seq, "type": ShowEvent.Type.SNAPSHOT, "at": now.isoformat(), "data": {"snapshot": state}}
