"""notificationAdded delivers fan-out rows live over the WebSocket endpoint."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from notifications import services

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIPTION = "subscription { notificationAdded { id kind title category } }"


async def test_a_fan_out_reaches_each_subscriber_once_with_their_own_row(member, settings):
    settings.NOTIFICATIONS_CHUNK_SIZE = 2  # the viewer sits in the second of three chunks
    people = [await database_sync_to_async(member)(f"user{number}") for number in range(5)]
    viewer = people[2]
    communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"])
    await communicator.connect(timeout=3)
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": viewer.token}})
    assert (await communicator.receive_json_from())["type"] == "connection_ack"
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
    await asyncio.sleep(0.05)  # let the subscription join its group

    await database_sync_to_async(services.notify)(
        recipient_ids=[person.pk for person in people],
        kind="show_live",
        title="Priya is live",
        body="Vintage bags",
        dedupe_key="show:7:live",
    )
    message = await communicator.receive_json_from(timeout=3)
    assert message["payload"]["data"]["notificationAdded"]["title"] == "Priya is live"
    assert message["payload"]["data"]["notificationAdded"]["category"] == "SHOWS"
    assert await communicator.receive_nothing(0.2)
    await communicator.disconnect()
