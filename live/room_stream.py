"""A show room's stream: one showEvents subscription, between the channel layer and
its client (the graphql-transport-ws consumer of config.graphql runs it).

`show_events` joins the show's group before reading anything, catches up from the log (the
events after the client's `afterSeq`, or a snapshot; live.events), then streams the group's
events in sequence order: it drops what it already sent (the seam between catch-up and live
events) and, when a number is skipped (an event still in flight from another process, or one
dropped by a full subscription buffer), reads the missing ones from the log. Pub/sub delivers at
most once (what is in flight when Redis restarts is gone), so a subscription that heard no event
for LIVE_LOG_CHECK_SECONDS reads the log too, in case the last ones were lost. Meanwhile the
subscription counts as a viewer (live.presence) until it ends, however it ends; presence is best
effort: with Redis out of reach the viewer keeps watching and is counted again by a heartbeat.
"""

import asyncio
import logging
import random
import time
import uuid
from functools import partial

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from graphql_relay import to_global_id
from redis import RedisError

from config.loops import OnePerLoop
from config.realtime import abroadcast_many
from live import events, presence
from live.models import Show, ShowEvent

logger = logging.getLogger("closetline.live")

# Presence goes to Redis: off the thread that serialises database work.
in_thread = partial(sync_to_async, thread_sensitive=False)
_background: set[asyncio.Task] = set()
# Not an event: a subscription's own reminder to read the log (_watch_log).
READ_THE_LOG = object()


async def show_events(context, show_id: int, user, after_seq: int | None):
    group_events = await context.join(events.show_group(show_id))
    member = uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    heard_at = loop.time()  # of the last event sent: the log watch reads it
    heartbeats = Heartbeats.of_running_loop()
    log_watch = None
    try:
        await _best_effort(_arrive(show_id, member))
        heartbeats.add(show_id, member)
        log_watch = asyncio.create_task(_watch_log(group_events.queue, lambda: heard_at))
        me = to_global_id("User", user.pk)
        sent = after_seq
        for event in await _catch_up(show_id, after_seq):
            yield event
            sent = event["seq"]
            if _ends_stream(event, me):
                return
        async for event in group_events:
            if event is READ_THE_LOG:
                due_events = await _catch_up_if_reachable(show_id, sent)
            elif event["type"] == ShowEvent.Type.VIEWER_COUNT:
                yield event | {"seq": sent}
                continue
            elif event["seq"] <= sent:
                continue
            else:
                due_events = [event] if event["seq"] == sent + 1 else await _catch_up(show_id, sent)
            for due in due_events:
                if due["seq"] > sent:
                    yield due
                    sent, heard_at = due["seq"], loop.time()
                    if _ends_stream(due, me):
                        return
    finally:
        if log_watch is not None:
            log_watch.cancel()
        heartbeats.discard(show_id, member)
        await group_events.aclose()
        await _best_effort(_leave(show_id, member))


def spawn(coroutine) -> asyncio.Task:
    """Run `coroutine` in the background of the running loop, keeping the task referenced."""
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def _catch_up(show_id: int, after_seq: int | None) -> list[dict]:
    now = timezone.now()
    caught_up = await database_sync_to_async(events.catch_up)(show_id, after_seq, now=now)
    return [events.sent(message, now=now) for message in caught_up]


async def _watch_log(queue: asyncio.Queue, heard_at) -> None:
    """Ask the subscription to read the log (READ_THE_LOG in its queue) once it has sent nothing
    for LIVE_LOG_CHECK_SECONDS (±25%, so that the viewers of a quiet room do not all read it at
    once): a timer per quiet spell, none per event."""
    loop = asyncio.get_running_loop()
    while True:
        quiet_for = settings.LIVE_LOG_CHECK_SECONDS * random.uniform(0.75, 1.25)
        last = heard_at()
        await asyncio.sleep(last + quiet_for - loop.time())
        if heard_at() == last:
            queue.put_nowait(READ_THE_LOG)
            await asyncio.sleep(quiet_for)  # the next check, should nothing come meanwhile


async def _catch_up_if_reachable(show_id: int, after_seq: int | None) -> list[dict]:
    try:
        return await _catch_up(show_id, after_seq)
    except DatabaseError:
        return []  # the database is out of reach: the next check tries again


async def _best_effort(presence_work) -> None:
    """Run a presence coroutine; Redis out of reach costs a correct count for a while, not the show."""
    try:
        await presence_work
    except RedisError as error:
        logger.warning("Viewer presence not updated, Redis is out of reach: %s", error)


def _ends_stream(event: dict, me: str) -> bool:
    """The show ended (live, or in the snapshot of a show already over), or this viewer was removed."""
    kind, data = event["type"], event["data"]
    if kind == ShowEvent.Type.STATE:
        return data["state"] == Show.State.ENDED
    if kind == ShowEvent.Type.SNAPSHOT:
        return data["snapshot"]["state"] == Show.State.ENDED
    return kind == ShowEvent.Type.VIEWER_REMOVED and data["user"]["id"] == me


async def _arrive(show_id: int, member: str) -> None:
    await in_thread(presence.backend().join)(show_id, [member], time.time())
    await _announce_viewer_count(show_id)


class Heartbeats(OnePerLoop):
    """The heartbeat of a server process's viewers, per show: every LIVE_PRESENCE_HEARTBEAT
    seconds one refresh keeps all of them counted (a thousand viewers: one Redis pipeline, not
    a thousand timers and trips to a thread). A refresh that finds viewers of a crashed process
    expired announces the lower count."""

    def __init__(self):
        self.members: dict[int, set[str]] = {}
        self.beats: dict[int, asyncio.Task] = {}

    def add(self, show_id: int, member: str) -> None:
        self.members.setdefault(show_id, set()).add(member)
        if show_id not in self.beats:
            self.beats[show_id] = spawn(self._beat(show_id))

    def discard(self, show_id: int, member: str) -> None:
        members = self.members.get(show_id)
        if members is None or member not in members:
            return
        members.discard(member)
        if not members:
            del self.members[show_id]
            self.beats.pop(show_id).cancel()

    async def _beat(self, show_id: int) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_PRESENCE_HEARTBEAT)
            await _best_effort(self._refresh(show_id, list(self.members.get(show_id, ()))))

    async def _refresh(self, show_id: int, members: list[str]) -> None:
        expired = await in_thread(presence.backend().join)(show_id, members, time.time())
        # Viewers who left while the refresh was on its way were counted again by it.
        for member in set(members) - self.members.get(show_id, set()):
            await in_thread(presence.backend().leave)(show_id, member)
        if expired:
            await _announce_viewer_count(show_id)


async def _leave(show_id: int, member: str) -> None:
    await in_thread(presence.backend().leave)(show_id, member)
    await _announce_viewer_count(show_id)


async def _announce_viewer_count(show_id: int) -> None:
    """Broadcast the count at the end of the interval that this change opens, unless another
    change (in any process) opened it already: at most one count per show per interval."""
    interval = settings.LIVE_VIEWER_COUNT_INTERVAL
    if await in_thread(presence.backend().claim_count_broadcast)(show_id, interval):
        asyncio.get_running_loop().call_later(interval, lambda: spawn(_best_effort(_broadcast_viewer_count(show_id))))


async def _broadcast_viewer_count(show_id: int) -> None:
    counts = await in_thread(presence.backend().counts)([show_id], time.time())
    message = events.viewer_count_message(counts[show_id], now=timezone.now())
    await abroadcast_many([(events.show_group(show_id), message)])
