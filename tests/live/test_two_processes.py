"""A room spread over two real server processes sharing Redis (the pub/sub channel layer and
presence) and PostgreSQL: a viewer on process A sees what the host does through process B."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.helpers import gid
from tests.live.helpers import line_up_of, next_event, post, watch

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

FEATURE = """mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"""
SEND = """mutation($input: SendShowMessageInput!) { sendShowMessage(input: $input) { errors { code } } }"""


@pytest.fixture
def servers(processes):
    """start() runs a daphne process on the test database and Redis and returns its port."""
    return lambda: processes.daphne(DB_CONN_MAX_AGE="0")


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
        body = await asyncio.to_thread(post, process_b, priya.token, FEATURE, showId=gid(show), listingId=gid(listing))
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
