"""Live room: 1,000 WebSocket viewers of one show on one daphne process, against a raw
`websockets` broadcast server holding the same 1,000 clients, measured in the same run.

- Featured item: the host sends featureShowListing over HTTP to the same process (the mutation
  commits, records the event and fans it out through the channel layer; each viewer's
  subscription executes its selection on it); latency is from the request to each viewer's
  receipt, ROUNDS rounds × 1,000 viewers. Raw: a control client sends the same bytes to the raw
  server, which relays them to every client (`websockets.broadcast`). Target (DESIGN.md §6): p99
  ≤ 250 ms.
- Chat: CHATTERS viewers send MESSAGES messages between them through sendShowMessage, back to
  back; throughput is messages per second delivered to every viewer (first send to the last
  viewer's last receipt). Raw: the control client sends as many messages of the same size.

The server runs on the benchmark's database (a file copy of it on SQLite, whose test database
lives in memory) with the channel layer of the environment: in-memory, or the Redis pub/sub layer
with REDIS_URL. Loopback only, bounded in clients and time; every process started is stopped.
"""

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from graphql_relay import to_global_id
from websockets.asyncio.client import connect

from bench.harness import (daphne_command, daphne_environment, database_url_for_server, members_with_tokens,
                           raise_open_file_limit, server)
from bench.loadgen import percentile
from live import services
from marketplace import services as marketplace_services
from marketplace.models import Category

VIEWERS = int(os.environ.get("LIVE_BENCH_VIEWERS", "1000"))  # fewer for a quick check of the benchmark
ROUNDS = 20
MESSAGES = 50
CHATTERS = 4
CONNECTING_AT_ONCE = 100
DEADLINE = 120.0  # seconds for any one phase (connecting, a round, the chat burst)
PROTOCOL = "graphql-transport-ws"
EVENTS = """subscription($showId: ID!) { showEvents(showId: $showId) {
  seq type viewerCount item { listingId title price { amount currency } seller { username } }
  message { body author { username } } } }"""
FEATURE = "mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"
SEND = "mutation($input: SendShowMessageInput!) { sendShowMessage(input: $input) { errors { code } } }"

# The baseline: a plain websockets server relaying each message of a client to all the others.
RAW_SERVER = """
import asyncio, sys
from websockets.asyncio.server import broadcast, serve
clients = set()
async def relay(websocket):
    clients.add(websocket)
    try:
        async for message in websocket:
            broadcast(clients - {websocket}, message)
    finally:
        clients.discard(websocket)
async def main():
    async with serve(relay, "127.0.0.1", int(sys.argv[1]), compression=None, max_queue=None):
        await asyncio.Future()
asyncio.run(main())
"""


def run(report):
    raise_open_file_limit(2 * VIEWERS + 200)
    world = _build_world()
    with tempfile.TemporaryDirectory() as scratch:
        environment = daphne_environment(database_url_for_server(Path(scratch)), LIVE_AUCTION_TIMER="off")
        with server(daphne_command(), environment) as port:
            graphql = asyncio.run(_measure_graphql(port, world))
    with server([sys.executable, "-c", RAW_SERVER, "{port}"], os.environ.copy()) as port:
        raw = asyncio.run(_measure_raw(port, graphql["featured_message"], graphql["chat_message"]))
    layer = "Redis pub/sub" if settings.REDIS_URL else "in-memory"
    for name, samples in (("p50", 50), ("p99", 99)):
        value, baseline = percentile(graphql["latencies"], samples), percentile(raw["latencies"], samples)
        report.add("live", f"featured item to {VIEWERS:,} viewers, {name}", value, "ms", baseline=baseline,
                   baseline_label="raw websockets broadcast", target="p99 ≤ 250 ms" if name == "p99" else "",
                   met=value <= 250 if name == "p99" else None)
    report.add("live", f"chat delivered to all {VIEWERS:,} viewers", graphql["chat_rate"], "msg/s",
               baseline=raw["chat_rate"], baseline_label="raw websockets broadcast",
               target=f"({layer} channel layer, {CHATTERS} chatters)")


# The world and the processes


def _build_world() -> dict:
    """A live show with two listings of its host, and viewers with bearer tokens (bulk-made: the
    password hashers would take minutes)."""
    _, tokens = members_with_tokens("live-viewer", VIEWERS)
    (host,), (host_token,) = members_with_tokens("live-host", 1)
    show = services.create_show(host=host, title="Bench night", scheduled_start=timezone.now())
    listings = [marketplace_services.create_listing(seller=host, title=f"Bench bag {number}", price=Decimal("40"),
                                                    category_id=Category.objects.order_by("pk").first().pk)
                for number in range(2)]
    for listing in listings:
        services.add_show_listing(show=show, user=host, listing=listing)
    services.start_show(show=show, user=host)
    return {"show": to_global_id("Show", show.pk), "listings": [to_global_id("Listing", item.pk) for item in listings],
            "host_token": host_token, "viewer_tokens": tokens}


# Measuring


class Round:
    """What the viewers wait for now: `expected(event)` is true for the awaited events; each viewer's
    receipt times land in `times[viewer]`; `done` is set once every viewer has `count` of them.
    `sample` keeps the first awaited frame as received (the raw server relays the same bytes)."""

    def __init__(self, expected, count: int = 1):
        self.expected, self.count = expected, count
        self.times: dict[int, list[float]] = {}
        self.complete = 0
        self.sample = None
        self.done = asyncio.Event()

    def receive(self, viewer: int, message: str, event, at: float):
        if self.expected(event):
            self.sample = self.sample or message
            received = self.times.setdefault(viewer, [])
            received.append(at)
            if len(received) == self.count:
                self.complete += 1
                if self.complete == VIEWERS:
                    self.done.set()


class Room:
    """VIEWERS clients, each a task that reads its socket and hands each message to `round`."""

    def __init__(self, url: str, parse):
        self.url, self.parse = url, parse
        self.round: Round | None = None
        self.sockets = []
        self.tasks = []

    async def open(self, greet):
        """Connect every viewer (at most CONNECTING_AT_ONCE at a time); `greet(socket, number)`
        sets each one up and returns when it is ready."""
        limit = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def join(number):
            async with limit:
                socket_ = await connect(self.url, subprotocols=[PROTOCOL], compression=None, max_queue=None,
                                        open_timeout=DEADLINE, ping_interval=None)
                await greet(socket_, number)
                return socket_

        self.sockets = await asyncio.wait_for(asyncio.gather(*(join(number) for number in range(VIEWERS))), DEADLINE)
        self.tasks = [asyncio.create_task(self._read(number, socket_)) for number, socket_ in enumerate(self.sockets)]

    async def _read(self, number, socket_):
        async for message in socket_:
            at = time.perf_counter()
            if self.round is not None:
                self.round.receive(number, message, self.parse(message), at)

    async def wait(self, round_: Round):
        await asyncio.wait_for(round_.done.wait(), DEADLINE)

    async def close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(socket_.close() for socket_ in self.sockets), return_exceptions=True)


async def _measure_graphql(port: int, world: dict) -> dict:
    def parse(message):
        return json.loads(message)["payload"]["data"]["showEvents"]

    async def greet(socket_, number):
        token = world["viewer_tokens"][number]
        await socket_.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert json.loads(await socket_.recv())["type"] == "connection_ack"
        await socket_.send(json.dumps({"id": "show", "type": "subscribe", "payload": {
            "query": EVENTS, "variables": {"showId": world["show"]}}}))
        assert parse(await socket_.recv())["type"] == "SNAPSHOT"

    room = Room(f"ws://127.0.0.1:{port}/graphql/", parse)
    await room.open(greet)
    # Everyone is in once the coalesced count says so; then the room is quiet.
    room.round = Round(lambda event: event["type"] == "VIEWER_COUNT" and event["viewerCount"] == VIEWERS)
    await room.wait(room.round)
    http = f"http://127.0.0.1:{port}/graphql/"

    latencies = []
    for number in range(ROUNDS):
        listing = world["listings"][number % 2]
        room.round = Round(lambda event, listing=listing: event["type"] == "FEATURED"
                           and event["item"]["listingId"] == listing)
        started = time.perf_counter()
        body = await asyncio.to_thread(_post, http, world["host_token"], FEATURE,
                                       {"showId": world["show"], "listingId": listing})
        assert body["data"]["featureShowListing"]["errors"] == [], body
        await room.wait(room.round)
        latencies += [(times[0] - started) * 1000 for times in room.round.times.values()]
    featured_message = room.round.sample

    room.round = Round(lambda event: event["type"] == "MESSAGE", count=MESSAGES)
    started = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(_chat, http, world["viewer_tokens"][chatter], world["show"],
                                             MESSAGES // CHATTERS + (chatter < MESSAGES % CHATTERS))
                           for chatter in range(CHATTERS)))
    await room.wait(room.round)
    finished = max(times[-1] for times in room.round.times.values())
    await room.close()
    return {"latencies": latencies, "chat_rate": MESSAGES / (finished - started),
            "featured_message": featured_message, "chat_message": room.round.sample}


async def _measure_raw(port: int, featured_message: str, chat_message: str) -> dict:
    async def greet(socket_, number):
        pass

    room = Room(f"ws://127.0.0.1:{port}/", json.loads)
    await room.open(greet)
    latencies = []
    async with connect(f"ws://127.0.0.1:{port}/", compression=None) as control:
        await asyncio.sleep(0.5)  # every viewer registered with the server
        for number in range(ROUNDS):
            marked = _marked(featured_message, number)
            room.round = Round(lambda event, number=number: event.get("round") == number)
            started = time.perf_counter()
            await control.send(marked)
            await room.wait(room.round)
            latencies += [(times[0] - started) * 1000 for times in room.round.times.values()]
        room.round = Round(lambda event: event.get("round") == "chat", count=MESSAGES)
        started = time.perf_counter()
        for _ in range(MESSAGES):
            await control.send(_marked(chat_message, "chat"))
        await room.wait(room.round)
        finished = max(times[-1] for times in room.round.times.values())
    await room.close()
    return {"latencies": latencies, "chat_rate": MESSAGES / (finished - started)}


def _marked(message: str, mark) -> str:
    """The GraphQL frame with a round marker, so the raw clients know what they wait for."""
    return json.dumps(json.loads(message) | {"round": mark})


def _post(url: str, token: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query, "variables": {"input": variables}}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=DEADLINE) as response:
        return json.load(response)


def _chat(url: str, token: str, show_id: str, count: int) -> None:
    for number in range(count):
        body = _post(url, token, SEND, {"showId": show_id, "body": f"chat line {number}"})
        assert body["data"]["sendShowMessage"]["errors"] == [], body
