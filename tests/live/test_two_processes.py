"""A room spread over two real server processes sharing Redis (the pub/sub channel layer and
presence) and PostgreSQL: a viewer on process A sees what the host does through process B."""

import asyncio
import json
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings

from tests.helpers import gid
from tests.live.helpers import EVENTS, line_up_of
from tests.servers import shared_database_url, start_daphne, stop

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

FEATURE = """mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"""
SEND = """mutation($input: SendShowMessageInput!) { sendShowMessage(input: $input) { errors { code } } }"""


@pytest.fixture
def servers(tmp_path):
    """start() runs a daphne process on the test database and Redis and returns its port; every
    one is terminated after the test."""
    environment = {"DATABASE_URL": shared_database_url(), "REDIS_URL": settings.REDIS_URL, "LIVE_AUCTION_TIMER": "off",
                   "DB_CONN_MAX_AGE": "0"}
    started = []

    def start() -> int:
        process, port = start_daphne(environment, tmp_path / f"daphne{len(started)}.log")
        started.append(process)
        return port

    yield start
    for process in started:
        stop(process)


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
