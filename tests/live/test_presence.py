"""Viewer presence: counted per subscription across processes, robust to a crashed process."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from live import presence
from tests.live.helpers import Viewer


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def board(request, settings):
    return presence.LocalPresence() if request.param == "local" else presence.RedisPresence(settings.REDIS_URL)


def test_members_count_until_they_leave_or_stop_refreshing(board, settings):
    settings.LIVE_PRESENCE_TTL = 60
    now = time.time()
    board.join(7, ["a", "b"], now)
    board.join(7, ["c"], now)
    board.join(8, ["elsewhere"], now)
    board.leave(7, "c")
    assert board.counts([7, 8, 9], now) == {7: 2, 8: 1, 9: 0}
    assert board.join(7, ["a"], now + 50) == 0  # a heartbeat pushes a's expiry back
    # b's process crashed 61 s ago: b stops counting, and the next heartbeat says it dropped one.
    assert board.counts([7], now + 61) == {7: 1}
    board.join(7, ["b"], now)
    assert board.join(7, ["a"], now + 61) == 1


def test_one_viewer_count_broadcast_is_claimed_per_interval(board):
    assert board.claim_count_broadcast(7, 0.2) is True
    assert board.claim_count_broadcast(7, 0.2) is False
    assert board.claim_count_broadcast(8, 0.2) is True
    time.sleep(0.25)
    assert board.claim_count_broadcast(7, 0.2) is True


@pytest.mark.django_db(transaction=True)
async def test_a_viewer_left_behind_by_a_crashed_process_expires_from_the_count(member, show_of, settings):
    settings.LIVE_PRESENCE_TTL, settings.LIVE_PRESENCE_HEARTBEAT = 0.3, 0.1
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya)
    await database_sync_to_async(presence.backend().join)(show.pk, ["ghost"], time.time())
    viewer = await Viewer.watch(priya.token, show)
    assert (await viewer.event())["snapshot"]["viewerCount"] == 2

    counts = []
    while not counts or counts[-1] != 1:
        event = await viewer.event(counts=True)
        counts.append(event["viewerCount"])
    assert counts[-1] == 1  # the ghost expired; the heartbeat kept the live viewer
    await asyncio.sleep(0.4)  # past another TTL: still counted thanks to its heartbeats
    assert (await database_sync_to_async(presence.backend().counts)([show.pk], time.time())) == {show.pk: 1}
    await viewer.close()
    await asyncio.sleep(0.05)
    assert (await database_sync_to_async(presence.backend().counts)([show.pk], time.time())) == {show.pk: 0}


@pytest.mark.django_db(transaction=True)
async def test_one_heartbeat_keeps_all_of_a_process_s_viewers_counted(member, show_of, settings, monkeypatch):
    settings.LIVE_PRESENCE_HEARTBEAT = 0.1
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya)
    people = [await database_sync_to_async(member)(name) for name in ("ava", "marco", "sam")]
    board = presence.backend()
    refreshed = []
    join = board.join
    monkeypatch.setattr(
        board, "join", lambda show_id, members, now: refreshed.append(set(members)) or join(show_id, members, now)
    )
    viewers = [await Viewer.watch(person.token, show) for person in people]
    for viewer in viewers:
        await viewer.event()
    refreshed.clear()
    await asyncio.sleep(0.35)
    assert refreshed and all(len(members) == 3 for members in refreshed)  # not a refresh per viewer
    assert (await database_sync_to_async(board.counts)([show.pk], time.time())) == {show.pk: 3}
    for viewer in viewers:
        await viewer.close()
