"""Helpers of the live tests: a WebSocket viewer of a show, and the subscription it sends."""

import asyncio

from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.helpers import gid

EVENTS = """subscription($showId: ID!, $afterSeq: Int) { showEvents(showId: $showId, afterSeq: $afterSeq) {
  seq type at state viewerCount messageId listingId listingIds slowModeSeconds
  item { listingId title status price { amount currency } seller { username } }
  message { id body author { username } }
  user { username }
  auction { id state endsAt bidCount currentBid { amount } leader { username } nextMinimumBid { amount }
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
        await communicator.send_json_to({"id": "show", "type": "subscribe",
                                         "payload": {"query": query, "variables": variables}})
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
