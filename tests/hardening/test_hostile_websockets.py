"""Hostile WebSocket clients of /graphql/: each is closed or throttled with the protocol's codes,
and a well-behaved viewer of the same show keeps receiving the host's events, in order.

In process (channels' WebsocketCommunicator on config.asgi.application) for the consumer's rules;
over a real daphne process and raw sockets for what only the wire shows: the close codes as
sent, and a client that never reads.
"""

import asyncio
import base64
import json
import os
import socket
import struct
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from accounts import services as account_services
from accounts.models import AuthToken
from live import services
from tests.graphql.helpers import closed_with, initialised, open_socket
from tests.helpers import gid
from tests.live.conftest import _live_settings, member, show_of  # noqa: F401  (the live tests' fixtures)
from tests.live.helpers import EVENTS, Viewer, line_up_of, next_event, post, watch

# Only tests with people in them need the (transactional, so slow to flush) database.
with_database = pytest.mark.django_db(transaction=True)

INIT = {"type": "connection_init"}
PING = {"type": "ping"}
FEATURE = """mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"""
SEND = """mutation($input: SendShowMessageInput!) { sendShowMessage(input: $input) { errors { code } } }"""


@pytest.fixture
def room(member, show_of):  # noqa: F811
    """Priya's live show with two listings, ava to watch it and mallory to attack it."""
    host = member("priya")
    return show_of(host), host, member("ava"), member("mallory")


async def watching(show, person) -> tuple[Viewer, int]:
    """A viewer of the show, past its opening snapshot; the snapshot's sequence number."""
    viewer = await Viewer.watch(person.token, show)
    snapshot = await viewer.event()
    assert snapshot["type"] == "SNAPSHOT"
    return viewer, snapshot["seq"]


async def feature(show, host, turns: range) -> list[str]:
    """The host features the line-up's listings in turn (turn n: listing n mod 2); their IDs in order."""
    line_up = await database_sync_to_async(line_up_of)(show)
    featured = []
    for turn in turns:
        listing = line_up[turn % len(line_up)]
        await database_sync_to_async(services.feature_listing)(show=show, user=host, listing=listing)
        featured.append(gid(listing))
    return featured


async def assert_sees_in_order(viewer: Viewer, featured: list[str], after_seq: int):
    received = await viewer.events(len(featured))
    assert [event["type"] for event in received] == ["FEATURED"] * len(featured)
    assert [event["item"]["listingId"] for event in received] == featured
    assert [event["seq"] for event in received] == list(range(after_seq + 1, after_seq + 1 + len(featured)))


async def next_message(communicator) -> dict:
    """The next message other than a show's viewer count."""
    while True:
        message = await communicator.receive_json_from(timeout=5)
        event = message.get("payload", {}).get("data", {}) if message["type"] == "next" else {}
        if (event.get("showEvents") or {}).get("type") != "VIEWER_COUNT":
            return message


def subscribe(operation_id, show, after_seq=None) -> dict:
    return {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": EVENTS, "variables": {"showId": gid(show), "afterSeq": after_seq}},
    }


# Opening the connection wrong


async def test_missing_subprotocol_is_closed_4406():
    communicator, connected, _ = await open_socket(subprotocols=("graphql-ws",))
    assert connected
    assert await closed_with(communicator) == 4406


async def test_subscribe_before_ack_is_closed_4401():
    communicator, _, _ = await open_socket()
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
    assert await closed_with(communicator) == 4401


async def test_second_init_is_closed_4429():
    communicator = await initialised()
    await communicator.send_json_to(INIT)
    assert await closed_with(communicator) == 4429


async def test_no_init_within_the_timeout_is_closed_4408(settings):
    settings.GRAPHQL_WS_INIT_TIMEOUT = 0.2
    communicator, _, _ = await open_socket()
    assert await closed_with(communicator) == 4408


@pytest.mark.parametrize("payload", ["a-token", 5, [], False])
async def test_init_with_a_payload_that_is_not_an_object_is_closed_4400(payload):
    communicator, _, _ = await open_socket()
    await communicator.send_json_to({"type": "connection_init", "payload": payload})
    assert await closed_with(communicator) == 4400


@with_database
async def test_bad_token_in_init_is_closed_4403():
    communicator, _, _ = await open_socket()
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": "not-a-token"}})
    assert await closed_with(communicator) == 4403


async def test_foreign_browser_origin_is_refused():
    communicator, connected, _ = await open_socket(origin="https://evil.example")
    assert not connected


@with_database
async def test_a_token_after_its_logout_is_refused_and_other_viewers_go_on(room):
    show, host, ava, mallory = room
    on_ava, seq = await watching(show, ava)
    on_mallory, _ = await watching(show, mallory)
    stored = await database_sync_to_async(AuthToken.objects.get)(user=ava)
    await database_sync_to_async(account_services.logout)(token=stored)
    assert await closed_with(on_ava.communicator) == 4403

    # Someone holding ava's old token (a stolen phone, a leaked log) gets nothing with it.
    replay, _, _ = await open_socket()
    await replay.send_json_to({"type": "connection_init", "payload": {"token": ava.token}})
    assert await closed_with(replay) == 4403
    await assert_sees_in_order(on_mallory, await feature(show, host, range(2)), seq)
    await on_mallory.close()


# Malformed messages


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "connection_init"',
        "not json at all",
        '["connection_init"]',
        '{"type": "start"}',
        '{"type": "subscription_data"}',
        '{"type": 1}',
        '{"no": "type"}',
        "null",
        "[" * 30_000,
    ],
)
async def test_invalid_and_unknown_messages_are_closed_4400(frame):
    communicator, _, _ = await open_socket()
    await communicator.send_to(text_data=frame)
    assert await closed_with(communicator) == 4400


async def test_binary_frames_are_closed_4400():
    communicator, _, _ = await open_socket()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await closed_with(communicator) == 4400


@with_database
async def test_oversized_frames_are_closed_1009(settings, room):
    settings.GRAPHQL_WS_MAX_FRAME_BYTES = 1000
    show, host, ava, mallory = room
    viewer, seq = await watching(show, ava)
    communicator = await initialised(mallory.token)
    await communicator.send_json_to({"type": "ping", "payload": {"pad": "x" * 2000}})
    assert await closed_with(communicator) == 1009
    await assert_sees_in_order(viewer, await feature(show, host, range(1)), seq)
    await viewer.close()


@with_database
async def test_complete_for_unknown_ids_is_ignored(room):
    show, host, ava, mallory = room
    communicator = await initialised(mallory.token)
    await communicator.send_json_to(subscribe("mine", show))
    assert (await next_message(communicator))["payload"]["data"]["showEvents"]["type"] == "SNAPSHOT"
    for message in (
        {"type": "complete", "id": "someone-elses"},
        {"type": "complete"},
        {"type": "complete", "id": 5},
        {"type": "complete", "id": ""},
    ):
        await communicator.send_json_to(message)
    await communicator.send_json_to(PING)
    assert await next_message(communicator) == {"type": "pong"}
    featured = await feature(show, host, range(1))
    event = await next_message(communicator)
    assert event["id"] == "mine" and event["payload"]["data"]["showEvents"]["item"]["listingId"] == featured[0]
    await communicator.disconnect()


@with_database
async def test_duplicate_operation_id_is_closed_4409(room):
    show, host, ava, mallory = room
    communicator = await initialised(mallory.token)
    for _ in range(2):
        await communicator.send_json_to(subscribe("same", show))
    assert await closed_with(communicator) == 4409
    # The first subscription's snapshot may still be reading in the database thread: let it finish
    # before the test's tables are flushed (a busy machine's flush found them locked).
    await communicator.disconnect()
    await database_sync_to_async(lambda: None)()


# Too much


@with_database
async def test_operations_past_the_limit_get_a_typed_error_and_the_others_keep_working(room):
    show, host, ava, mallory = room
    viewer, seq = await watching(show, ava)
    communicator = await initialised(mallory.token)
    limit, asked = settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS, settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS + 30
    for number in range(asked):
        await communicator.send_json_to(subscribe(str(number), show, after_seq=seq))
    refused = [await next_message(communicator) for _ in range(asked - limit)]
    assert {message["type"] for message in refused} == {"error"}
    assert sorted(int(message["id"]) for message in refused) == list(range(limit, asked))
    assert {message["payload"][0]["extensions"]["code"] for message in refused} == {"RATE_LIMITED"}

    featured = await feature(show, host, range(1))
    delivered = [await next_message(communicator) for _ in range(limit)]
    assert sorted(int(message["id"]) for message in delivered) == list(range(limit))
    assert {message["payload"]["data"]["showEvents"]["item"]["listingId"] for message in delivered} == set(featured)
    await assert_sees_in_order(viewer, featured, seq)
    await communicator.disconnect()
    await viewer.close()


@with_database
@pytest.mark.parametrize("flood", ["pings", "subscribe and complete"])
async def test_a_message_flood_is_closed_4429_while_the_room_goes_on(room, flood):
    show, host, ava, mallory = room
    viewer, seq = await watching(show, ava)
    attacker = await initialised(mallory.token)
    if flood == "pings":
        frames = [json.dumps(PING)] * 3000
    else:
        frames = [
            json.dumps(message)
            for number in range(1500)
            for message in (subscribe(str(number), show), {"type": "complete", "id": str(number)})
        ]
    started = time.monotonic()

    async def attack():
        for frame in frames:
            await attacker.send_to(text_data=frame)

    during, _ = await asyncio.gather(feature(show, host, range(3)), attack())
    answered = 0
    while (output := await attacker.receive_output(5))["type"] != "websocket.close":
        answered += 1
    assert output["code"] == 4429
    # Throttled: it got answers for its burst and what the rate refilled, not for the flood.
    allowed = settings.GRAPHQL_WS_MESSAGE_BURST + settings.GRAPHQL_WS_MESSAGE_RATE * (time.monotonic() - started)
    assert answered <= allowed < len(frames) / 4
    after = await feature(show, host, range(3, 5))
    await assert_sees_in_order(viewer, during + after, seq)
    await viewer.nothing_more()
    await attacker.disconnect()
    await viewer.close()


async def test_a_burst_within_the_allowance_is_served(settings):
    settings.GRAPHQL_WS_MESSAGE_RATE = 0.001  # no refill during the test: the burst alone counts
    communicator = await initialised()  # connection_init is the first message of the burst
    for _ in range(settings.GRAPHQL_WS_MESSAGE_BURST - 1):
        await communicator.send_json_to(PING)
    for _ in range(settings.GRAPHQL_WS_MESSAGE_BURST - 1):
        assert await communicator.receive_json_from(timeout=3) == {"type": "pong"}
    await communicator.send_json_to(PING)
    assert await closed_with(communicator) == 4429


# On the wire: a real daphne process and raw sockets


class RawSocket:
    """A WebSocket client on a bare TCP socket, which reads only when told to."""

    def __init__(self, port: int, *, subprotocol="graphql-transport-ws", origin=None, receive_buffer=None):
        self.socket = socket.socket()
        if receive_buffer:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(10)
        self.socket.connect(("127.0.0.1", port))
        headers = {
            "Host": f"127.0.0.1:{port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Protocol": subprotocol,
        } | ({"Origin": origin} if origin else {})
        self.socket.sendall(
            (
                "GET /graphql/ HTTP/1.1\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                + "\r\n"
            ).encode()
        )
        self.received = b""
        while b"\r\n\r\n" not in self.received:
            self.received += self._chunk()
        head, self.received = self.received.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])

    def send(self, message, opcode=0x1):
        """One masked frame (text unless `opcode` says otherwise) of a dict as JSON, a str or bytes."""
        payload = json.dumps(message) if isinstance(message, dict) else message
        payload = payload.encode() if isinstance(payload, str) else payload
        mask, length = os.urandom(4), len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        self.socket.sendall(header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload)))

    def frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length >= 126:
            (length,) = struct.unpack("!H" if length == 126 else "!Q", self._read(2 if length == 126 else 8))
        return first & 0x0F, self._read(length)

    def close_code(self) -> tuple[int, int]:
        """Read up to the server's close frame: its code, and how many text messages came before it."""
        messages = 0
        while True:
            opcode, payload = self.frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], messages
            messages += opcode == 0x1

    def tcp_state(self) -> int:
        """The kernel's TCP state of this end (Linux TCP_INFO): 1 while established."""
        return self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]

    def _read(self, count: int) -> bytes:
        while len(self.received) < count:
            self.received += self._chunk()
        data, self.received = self.received[:count], self.received[count:]
        return data

    def _chunk(self) -> bytes:
        chunk = self.socket.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


ESTABLISHED = 1
FRAME_LIMIT = 4096
FLOOD = 400


def hostile_clients(show, token) -> list[tuple[str, list, int]]:
    """What each hostile client sends once connected (with the graphql-transport-ws subprotocol),
    and the close code it must get. Frames are dicts (JSON text), str (text) or bytes (binary)."""
    watch_twice = {"id": "same", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"showId": gid(show)}}}
    return [
        ("no connection_init", [], 4408),
        ("two connection_init", [INIT, INIT], 4429),
        ("subscribe before the ack", [{"id": "1", "type": "subscribe", "payload": {"query": "{ me { id } }"}}], 4401),
        ("an unknown message type", [INIT, {"type": "start", "id": "1"}], 4400),
        ("invalid JSON", ['{"type": "connection_init"'], 4400),
        ("a binary frame", [b"\x00\x01\x02"], 4400),
        ("connection_init with a string payload", [{"type": "connection_init", "payload": "token"}], 4400),
        ("an unknown token", [{"type": "connection_init", "payload": {"token": "guessed"}}], 4403),
        (
            "a duplicate operation id",
            [{"type": "connection_init", "payload": {"token": token}}] + [watch_twice] * 2,
            4409,
        ),
        ("an oversized frame", [INIT, {"type": "ping", "payload": {"pad": "x" * FRAME_LIMIT}}], 1009),
        ("a flood of pings", [INIT] + [PING] * FLOOD, 4429),
    ]


def run_hostile_client(port, frames) -> tuple[int, int]:
    """The close code the client got, and how many messages came before it."""
    client = RawSocket(port)
    assert client.status == 101
    try:
        for frame in frames:
            client.send(frame, opcode=0x2 if isinstance(frame, bytes) else 0x1)
        return client.close_code()
    finally:
        client.socket.close()


@with_database
async def test_every_hostile_client_gets_its_close_code_from_a_real_server(room, processes):
    show, host, ava, mallory = room
    port = await asyncio.to_thread(
        processes.daphne, GRAPHQL_WS_INIT_TIMEOUT="1", GRAPHQL_WS_MAX_FRAME_BYTES=str(FRAME_LIMIT), DB_CONN_MAX_AGE="0"
    )
    bystander = await watch(port, ava.token, show)
    seq = (await next_event(bystander))["seq"]
    line_up = [gid(listing) for listing in await database_sync_to_async(line_up_of)(show)]
    for turn, (name, frames, code) in enumerate(hostile_clients(show, mallory.token)):
        closed, answered = await asyncio.to_thread(run_hostile_client, port, frames)
        assert closed == code, name
        assert answered < FLOOD / 2, name  # the flood was cut short
        body = await asyncio.to_thread(post, port, host.token, FEATURE, showId=gid(show), listingId=line_up[turn % 2])
        assert body["data"]["featureShowListing"]["errors"] == []
        event = await next_event(bystander)
        assert (event["seq"], event["item"]["listingId"]) == (seq + turn + 1, line_up[turn % 2]), name

    foreign = await asyncio.to_thread(RawSocket, port, origin="https://evil.example")
    assert foreign.status == 403
    other_protocol = await asyncio.to_thread(RawSocket, port, subprotocol="graphql-ws")
    assert (await asyncio.to_thread(other_protocol.close_code))[0] == 4406
    await bystander.close()
    log = processes.started[-1].log.read_text()
    # Every refusal is a protocol close, never a crash of the application (daphne's 1011).
    assert "Traceback" not in log and "Exception inside application" not in log, log


# A chat line as large as a subscription may ask: 30 aliases (GRAPHQL_MAX_ALIASES) of its body.
HEAVY_EVENTS = (
    "subscription($showId: ID!) { showEvents(showId: $showId) { seq type message { "
    + " ".join(f"b{number}: body" for number in range(30))
    + " } } }"
)
SEND_BUFFER_LIMIT = 256 * 1024
CHAT_LINES = 60


@with_database
async def test_a_client_that_never_reads_is_dropped_and_the_room_keeps_its_pace(room, processes):
    """Mallory subscribes 50 times to the show (each chat line: ~450 KB for her) and never reads;
    ava reads. The server drops mallory once her unsent backlog passes the limit, its memory stays
    bounded, and ava gets every line promptly."""
    show, host, ava, mallory = room
    port = await asyncio.to_thread(
        processes.daphne, GRAPHQL_WS_MAX_SEND_BUFFER_BYTES=str(SEND_BUFFER_LIMIT), DB_CONN_MAX_AGE="0"
    )
    server = processes.started[-1]
    bystander = await watch(port, ava.token, show)
    seq = (await next_event(bystander))["seq"]
    slow = await asyncio.to_thread(RawSocket, port, receive_buffer=4096)
    slow.send({"type": "connection_init", "payload": {"token": mallory.token}})
    assert (await asyncio.to_thread(slow.frame))[1] == b'{"type":"connection_ack"}'
    subscriptions = settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS
    for number in range(subscriptions):
        slow.send(
            {
                "id": str(number),
                "type": "subscribe",
                "payload": {"query": HEAVY_EVENTS, "variables": {"showId": gid(show)}},
            }
        )
    while (await next_event(bystander, counts=True)).get("viewerCount") != 1 + subscriptions:
        pass  # every one of her subscriptions is in the room
    memory_before = rss_bytes(server.pid)

    latencies = []
    for line in range(CHAT_LINES):
        body = f"{line:03d} " + "x" * 296
        sent = time.monotonic()
        reply = await asyncio.to_thread(post, port, host.token, SEND, showId=gid(show), body=body)
        assert reply["data"]["sendShowMessage"]["errors"] == []
        event = await next_event(bystander)
        latencies.append(time.monotonic() - sent)
        assert (event["seq"], event["message"]["body"]) == (seq + line + 1, body)
    deadline = time.monotonic() + 10
    while slow.tcp_state() == ESTABLISHED:
        assert time.monotonic() < deadline, "the server kept the client that never reads"
        await asyncio.sleep(0.05)
    growth = rss_bytes(server.pid) - memory_before
    await bystander.close()
    slow.socket.close()
    # Unbounded, the server would hold CHAT_LINES × ~450 KB (~27 MB) for her; bounded, her
    # backlog is dropped after a few lines.
    assert growth < 12 * 1024 * 1024, growth
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.5 and latencies[-1] < 2.0, latencies


@with_database
async def test_a_slow_reader_gets_large_events_whole_and_in_order(room, processes):
    """Ava, in the room 40 times over, reads nothing while 20 chat lines reach each of her
    subscriptions (~7.5 MB, more than her socket takes: the server sends what the kernel accepts
    at once and queues the rest); then she reads every event, whole and in order."""
    show, host, ava, _ = room
    port = await asyncio.to_thread(
        processes.daphne, GRAPHQL_WS_MAX_SEND_BUFFER_BYTES=str(16 * 1024 * 1024), DB_CONN_MAX_AGE="0"
    )
    reader = await asyncio.to_thread(RawSocket, port, receive_buffer=4096)
    reader.send({"type": "connection_init", "payload": {"token": ava.token}})
    assert (await asyncio.to_thread(reader.frame))[1] == b'{"type":"connection_ack"}'
    subscriptions = [str(number) for number in range(40)]
    for operation_id in subscriptions:
        reader.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": HEAVY_EVENTS, "variables": {"showId": gid(show)}},
            }
        )
    snapshots = {}  # every subscription's first event, before the lines are sent
    while len(snapshots) < len(subscriptions):
        message = json.loads((await asyncio.to_thread(reader.frame))[1])
        event = message["payload"]["data"]["showEvents"]
        if event["type"] == "SNAPSHOT":
            snapshots[message["id"]] = event["seq"]
    (seq,) = set(snapshots.values())
    bodies = [f"{line:03d} " + "y" * 296 for line in range(20)]
    for body in bodies:
        reply = await asyncio.to_thread(post, port, host.token, SEND, showId=gid(show), body=body)
        assert reply["data"]["sendShowMessage"]["errors"] == []
    received = {operation_id: [] for operation_id in subscriptions}
    while sum(map(len, received.values())) < len(subscriptions) * len(bodies):
        message = json.loads((await asyncio.to_thread(reader.frame))[1])
        event = message["payload"]["data"]["showEvents"]
        if event["type"] == "MESSAGE":
            received[message["id"]].append((event["seq"], event["message"]["b0"], event["message"]["b29"]))
    reader.socket.close()
    expected = [(seq + number + 1, body, body) for number, body in enumerate(bodies)]
    assert received == {operation_id: expected for operation_id in subscriptions}


def rss_bytes(pid: int) -> int:
    """A process's resident memory (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
