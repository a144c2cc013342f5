"""PostgreSQL connections of a running daphne are cut, then the database refuses connections for
a moment: requests fail with a typed error and no internal text, nothing half-done is left, and
the next requests succeed on fresh connections, without restarting the server. A viewer's
WebSocket subscription lives through it and gets the show's next event.

The daphne keeps its connections (CONN_MAX_AGE as in production, with health checks) and names
them with an application_name, so that only its backends of the test database are terminated.
"""

import asyncio
import json
import time

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from psycopg import sql

from live.models import ShowMessage
from tests.faults.helpers import assert_clean
from tests.helpers import gid
from tests.live.helpers import http_post, next_event, watch
from tests.processes import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

APPLICATION = "closetline-faults-daphne"
SEND = """mutation($input: SendShowMessageInput!) {
  sendShowMessage(input: $input) { errors { field code message } } }"""
ME = "{ me { username } }"


class Database:
    """The test's own handle on PostgreSQL, apart from Django's connections and from the test
    database (whose own sessions may not close it): it sees, cuts and refuses the daphne's
    connections to the test database and nothing else."""

    def __init__(self, connection: psycopg.AsyncConnection, name: str):
        self.connection, self.name = connection, name

    async def server_waits_for_a_lock(self) -> bool:
        cursor = await self.connection.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND application_name = %s AND wait_event_type = 'Lock'",
            [self.name, APPLICATION],
        )
        return await cursor.fetchone() is not None

    async def cut_server_connections(self) -> int:
        cursor = await self.connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s",
            [self.name, APPLICATION],
        )
        return (await cursor.fetchone())[0]

    async def allow_connections(self, allowed: bool) -> None:
        await self.connection.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(self.name), sql.Literal(allowed))
        )


@pytest.fixture
async def database():
    maintenance = await psycopg.AsyncConnection.connect(database_url().rsplit("/", 1)[0] + "/postgres", autocommit=True)
    handle = Database(maintenance, connection.settings_dict["NAME"])
    try:
        yield handle
    finally:
        await handle.allow_connections(True)
        await maintenance.close()


async def poll(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def send(port, token, show, body) -> tuple[int, str]:
    return http_post(port, token, SEND, {"input": {"showId": gid(show), "body": body}})


def unavailable(status: int, body: str) -> bool:
    """A clean refusal that tells the client to try again."""
    assert assert_clean(status, body) is None, body
    return [error["extensions"]["code"] for error in json.loads(body)["errors"]] == ["SERVICE_UNAVAILABLE"]


async def test_cut_and_refused_database_connections_fail_cleanly_then_recover(processes, database, member, show_of):
    priya, ava = [await database_sync_to_async(member)(name) for name in ("priya", "ava")]
    show = await database_sync_to_async(show_of)(priya)
    port = await asyncio.to_thread(processes.daphne, DATABASE_URL=f"{database_url()}?application_name={APPLICATION}")
    viewer = await watch(port, ava.token, show)
    start = (await next_event(viewer))["seq"]
    assert assert_clean(*await asyncio.to_thread(send, port, priya.token, show, "Before"))["errors"] == []
    assert (await next_event(viewer))["message"]["body"] == "Before"

    # A request in flight (waiting for the show's row, which the test holds) loses its connection.
    async with await psycopg.AsyncConnection.connect(database_url()) as holder:
        await holder.execute("SELECT 1 FROM live_show WHERE id = %s FOR UPDATE", [show.pk])
        in_flight = asyncio.ensure_future(asyncio.to_thread(send, port, priya.token, show, "Cut off"))
        await poll(database.server_waits_for_a_lock, 10, "the request to wait for the show's row")
        assert await database.cut_server_connections() >= 1
    assert unavailable(*await in_flight)

    # The database refuses connections for a moment: every request is refused cleanly, at once.
    await database.allow_connections(False)
    try:
        await database.cut_server_connections()
        started = time.monotonic()
        assert unavailable(*await asyncio.to_thread(http_post, port, priya.token, ME, {}))
        assert unavailable(*await asyncio.to_thread(send, port, priya.token, show, "Refused"))
        assert time.monotonic() - started < 5
    finally:
        await database.allow_connections(True)

    # Back: the same server answers on fresh connections, and the viewer's socket is still live.
    body = json.loads((await asyncio.to_thread(http_post, port, priya.token, ME, {}))[1])
    assert body == {"data": {"me": {"username": "priya"}}}
    assert assert_clean(*await asyncio.to_thread(send, port, priya.token, show, "After"))["errors"] == []
    event = await next_event(viewer)
    assert (event["seq"], event["message"]["body"]) == (start + 2, "After")
    await viewer.close()
    messages = await database_sync_to_async(
        lambda: list(ShowMessage.objects.filter(show=show).order_by("pk").values_list("body", flat=True))
    )()
    assert messages == ["Before", "After"]
