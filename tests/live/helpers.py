"""Helpers of the live tests: a WebSocket viewer of a show, and the subscription it sends; the
same over a real socket to a daphne process, and the host's HTTP requests to it."""

import asyncio
import json
import urllib.error
import urllib.request

import websockets
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.helpers import gid

EVENTS = """subscription($showId: ID!, $afterSeq: Int) { showEvents(showId: $showId, afterSeq: $afterSeq) {
  seq type at serverTime state streamState viewerCount messageId listingId listingIds slowModeSeconds
  item { listingId title status price { amount currency } seller { username } }
  message { id body author { username } }
  user { username }
  auction { id state endsAt pausedAt bidCount currentBid { amount } leader { username } nextMinimumBid { amount }
            item { listingId } }
  bid { amount { amount currency } bidder { username } }
  buyer { username } price { amount }
  snapshot { state slowModeSeconds viewerCount featured { listingId } lineUp { listingId } auction { id }
             messages { body author { username } } cohosts { username } }
} }"""


def line_up_of(show):
    return [entry.listing for entry in show.line_up.order_by("position")]


class Viewer:
    """A graphql-transport-ws client subscribed to one show's events."""

    def __init__(self, communicator):
        self.communicator = communicator

    @classmethod
    async def watch(cls, token, show, after_seq=None, query=EVENTS):
        communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"])
        connected, _ = await communicator.connect(timeout=3)
        assert connected
        await communicator.send_json_to({"type": "connection_init", "payload": {"token": token}})
        assert (await communicator.receive_json_from(timeout=3))["type"] == "connection_ack"
        variables = {"showId": gid(show), "afterSeq": after_seq}
        await communicator.send_json_to(
            {"id": "show", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return cls(communicator)

    async def message(self, timeout=3) -> dict:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def event(self, timeout=3, counts=False) -> dict:
        """The next show event (viewer counts skipped unless `counts`)."""
        while True:
            message = await self.message(timeout)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            event = message["payload"]["data"]["showEvents"]
            if counts or event["type"] != "VIEWER_COUNT":
                return event

    async def events(self, count, timeout=3) -> list[dict]:
        return [await self.event(timeout) for _ in range(count)]

    async def nothing_more(self, seconds=0.2) -> None:
        """No show event other than viewer counts arrives within `seconds` (receive_nothing, as a
        timed-out receive would cancel the application)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            if await self.communicator.receive_nothing(left):
                return
            event = await self.event(counts=True)
            assert event["type"] == "VIEWER_COUNT", event

    async def close(self):
        await self.communicator.disconnect()


def http_post(port: int, token: str, query: str, variables: dict) -> tuple[int, str]:
    """POST an operation to a daphne process on loopback: its HTTP status and body, whatever they are."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql/",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(port: int, token: str, query: str, **input_values) -> dict:
    return json.loads(http_post(port, token, query, {"input": input_values})[1])


async def watch(port: int, token: str, show, after_seq: int | None = None):
    """A real graphql-transport-ws socket to a daphne process, subscribed to the show's events."""
    socket_ = await websockets.connect(f"ws://127.0.0.1:{port}/graphql/", subprotocols=["graphql-transport-ws"])
    await socket_.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))["type"] == "connection_ack"
    await socket_.send(
        json.dumps(
            {
                "id": "show",
                "type": "subscribe",
                "payload": {"query": EVENTS, "variables": {"showId": gid(show), "afterSeq": after_seq}},
            }
        )
    )
    return socket_


async def next_event(socket_, counts=False):
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))
        event = message["payload"]["data"]["showEvents"]
        if counts or event["type"] != "VIEWER_COUNT":
            return event
