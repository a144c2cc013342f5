"""Redis dies during a live show spread over two server processes, and comes back empty.

Two daphne processes share a private redis-server (channel layer, presence, rate limits) and the
test's PostgreSQL database. While Redis is gone the host keeps running the show: every request
either does its work (the event is in the show's log; only its live fan-out is lost) or fails
with a typed error, never a 500 or internal text; a newcomer's socket is refused at the
handshake. Once Redis is back, without restarting either process, each viewer ends up with
every event exactly once and in order: the live stream fills a gap from the log (a quiet one
checks the log), and a client whose socket dropped resubscribes with the last `seq` it saw.
"""

import asyncio
import json
import time

import pytest
import websockets
from channels.db import database_sync_to_async

from live.models import ShowEvent
from tests.faults.helpers import assert_clean, assert_clean_text
from tests.helpers import gid
from tests.live.helpers import http_post, line_up_of, watch

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

FEATURE = """mutation($input: FeatureShowListingInput!) {
  featureShowListing(input: $input) { errors { field code message } } }"""
SEND = """mutation($input: SendShowMessageInput!) {
  sendShowMessage(input: $input) { errors { field code message } } }"""


class ResumingViewer:
    """A mobile client watching a show: it keeps the last `seq` it saw and, when its socket
    drops or its subscription fails, connects again and resubscribes from there."""

    def __init__(self, port, token, show):
        self.port, self.token, self.show = port, token, show
        self.events: list[dict] = []
        self.last_seq = None
        self.socket = None

    async def start(self) -> dict:
        self.socket = await watch(self.port, self.token, self.show)
        snapshot = await self._next()
        assert snapshot["type"] == "SNAPSHOT", snapshot
        self.last_seq = snapshot["seq"]
        return snapshot

    async def until(self, seq: int, seconds: float = 20) -> list[dict]:
        """Every event after the snapshot up to `seq`, however many reconnections it takes."""
        deadline = time.monotonic() + seconds
        while self.last_seq < seq:
            assert time.monotonic() < deadline, f"stuck at seq {self.last_seq}, waiting for {seq}"
            try:
                event = await self._next(timeout=deadline - time.monotonic())
            except (websockets.ConnectionClosed, SubscriptionFailed, OSError):  # OSError: a timeout too
                await self._reconnect(deadline)
                continue
            self.events.append(event)
            self.last_seq = event["seq"]
        return self.events

    async def _reconnect(self, deadline):
        if self.socket is not None:
            await self.socket.close()
        self.socket = None
        while self.socket is None:
            assert time.monotonic() < deadline, "could not resubscribe"
            try:
                self.socket = await watch(self.port, self.token, self.show, after_seq=self.last_seq)
            except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError, AssertionError):
                await asyncio.sleep(0.2)  # a client's back-off before it tries again

    async def _next(self, timeout=10) -> dict:
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=max(timeout, 0.1)))
            if message["type"] != "next":
                raise SubscriptionFailed(message)
            assert "errors" not in message["payload"], message
            event = message["payload"]["data"]["showEvents"]
            if event["type"] != "VIEWER_COUNT":
                return event

    async def close(self):
        if self.socket is not None:
            await self.socket.close()


class SubscriptionFailed(Exception):
    pass


def host_acts(port, token, show, query, **input_values) -> bool:
    """The host's request; True when it did its work."""
    status, body = http_post(port, token, query, {"input": {"showId": gid(show), **input_values}})
    payload = assert_clean(status, body)
    return payload is not None and payload["errors"] == []


async def a_newcomer_is_turned_away(port, token, show):
    """A socket needs its channel on the layer: while Redis is gone the handshake is refused (by
    daphne, a 500 with an empty body), and the app will try again."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        await watch(port, token, show)
    assert refused.value.response.status_code >= 500
    assert_clean_text(bytes(refused.value.response.body).decode())


async def test_viewers_get_every_event_once_in_order_after_redis_dies_and_returns_empty(processes, member, show_of):
    priya, ava, marco = [await database_sync_to_async(member)(name) for name in ("priya", "ava", "marco")]
    show = await database_sync_to_async(show_of)(priya, listings=3)
    first, second, third = await database_sync_to_async(line_up_of)(show)
    redis_server = processes.redis().start()
    process_a, process_b = [
        await asyncio.to_thread(processes.daphne, REDIS_URL=redis_server.url, LIVE_LOG_CHECK_SECONDS="1") for _ in "ab"
    ]
    viewers = [ResumingViewer(process_a, ava.token, show), ResumingViewer(process_b, marco.token, show)]
    try:
        snapshot_seq = (await viewers[0].start())["seq"]
        assert (await viewers[1].start())["seq"] == snapshot_seq
        assert await asyncio.to_thread(host_acts, process_b, priya.token, show, FEATURE, listingId=gid(first))

        redis_server.kill()
        done_during_outage = 0
        for port, query, values in (
            (process_b, FEATURE, {"listingId": gid(second)}),
            (process_a, SEND, {"body": "Still live?"}),
            (process_b, SEND, {"body": "Yes, still live"}),
        ):
            done_during_outage += await asyncio.to_thread(host_acts, port, priya.token, show, query, **values)
        await asyncio.wait_for(a_newcomer_is_turned_away(process_a, marco.token, show), 5)

        redis_server.start()
        # The processes carry on without a restart: the host's next requests work at once.
        assert await asyncio.to_thread(host_acts, process_a, priya.token, show, FEATURE, listingId=gid(third))
        assert await asyncio.to_thread(host_acts, process_b, priya.token, show, SEND, body="Back to normal")

        logged = await database_sync_to_async(
            lambda: list(
                ShowEvent.objects.filter(show=show, seq__gt=snapshot_seq).order_by("seq").values_list("seq", "type")
            )
        )()
        assert len(logged) == 3 + done_during_outage, logged
        for viewer in viewers:
            received = await viewer.until(logged[-1][0])
            assert [(event["seq"], event["type"].lower()) for event in received] == logged
    finally:
        for viewer in viewers:
            await viewer.close()
