"""A room spread over two real server processes sharing Redis (the pub/sub channel layer and
presence) and PostgreSQL: a viewer on process A sees what the host does through process B."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from tests.helpers import gid
from tests.live.helpers import EVENTS, line_up_of

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parents[2]
FEATURE = """mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"""
SEND = """mutation($input: SendShowMessageInput!) { sendShowMessage(input: $input) { errors { code } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def servers(tmp_path):
    """start() runs a daphne process on the test database and Redis and returns its port; every
    one is terminated after the test."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    environment = os.environ | {
        "DATABASE_URL": f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL, "LIVE_AUCTION_TIMER": "off", "DB_CONN_MAX_AGE": "0"}
    started = []

    def start() -> int:
        port = free_port()
        log = (tmp_path / f"daphne{len(started)}.log").open("w")
        process = subprocess.Popen([str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                    "config.asgi:application"], cwd=PROJECT, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / f"daphne{len(started) - 1}.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                assert time.monotonic() < deadline, "daphne did not start"
                time.sleep(0.1)

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def post(port, token, query, **input_values):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql/",
        data=json.dumps({"query": query, "variables": {"input": input_values}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


async def watch(port, token, show):
    socket_ = await websockets.connect(f"ws://127.0.0.1:{port}/graphql/", subprotocols=["graphql-transport-ws"])
    await socket_.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await socket_.recv())["type"] == "connection_ack"
    await socket_.send(json.dumps({"id": "show", "type": "subscribe",
                                   "payload": {"query": EVENTS, "variables": {"showId": gid(show)}}}))
    return socket_


async def next_event(socket_, counts=False):
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))
        event = message["payload"]["data"]["showEvents"]
        if counts or event["type"] != "VIEWER_COUNT":
            return event


async def test_a_viewer_on_one_process_sees_the_host_acting_through_another(servers, member, show_of):
    priya, ava, marco = [await database_sync_to_async(member)(name) for name in ("priya", "ava", "marco")]
    show = await database_sync_to_async(show_of)(priya)
    first, second = await database_sync_to_async(line_up_of)(show)
    process_a, process_b = await asyncio.to_thread(servers), await asyncio.to_thread(servers)

    on_a = await watch(process_a, ava.token, show)
    snapshot = await next_event(on_a)
    assert snapshot["type"] == "SNAPSHOT"
    on_b = await watch(process_b, marco.token, show)
    await next_event(on_b)

    for listing in (first, second):
        body = await asyncio.to_thread(post, process_b, priya.token, FEATURE, showId=gid(show),
                                       listingId=gid(listing))
        assert body["data"]["featureShowListing"]["errors"] == []
    await asyncio.to_thread(post, process_b, priya.token, SEND, showId=gid(show), body="Hello from B")

    for viewer in (on_a, on_b):
        received = [await next_event(viewer) for _ in range(3)]
        assert [event["seq"] for event in received] == [snapshot["seq"] + number for number in (1, 2, 3)]
        assert [event["item"]["listingId"] for event in received[:2]] == [gid(first), gid(second)]
        assert received[2]["message"]["body"] == "Hello from B"

    # Presence is shared too: the viewer on A counts the viewer on B.
    while (await next_event(on_a, counts=True))["viewerCount"] != 2:
        pass
    await on_b.close()
    while (await next_event(on_a, counts=True))["viewerCount"] != 1:
        pass
    await on_a.close()
