"""messageAdded delivers new messages live over the WebSocket endpoint, to both members only."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts import services as account_services
from config.asgi import application
from social import services
from tests.helpers import gid

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIPTION = """subscription($conversationId: ID) { messageAdded(conversationId: $conversationId) {
  body kind sender { username } conversationId } }"""


@database_sync_to_async
def register(username):
    return account_services.register(
        username=username, email=f"{username}@example.com", password="a-long-enough-passphrase"
    )


@database_sync_to_async
def send(sender, recipient, body):
    return services.send_message(sender=sender, recipient=recipient, body=body)


async def subscribed(token, variables=None):
    communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"])
    await communicator.connect(timeout=3)
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": token}})
    assert (await communicator.receive_json_from())["type"] == "connection_ack"
    await communicator.send_json_to(
        {"id": "m", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": variables or {}}}
    )
    await asyncio.sleep(0.05)  # let the subscription join its group
    return communicator


async def received(communicator):
    return (await communicator.receive_json_from(timeout=3))["payload"]["data"]["messageAdded"]


async def test_both_members_hear_of_a_message_and_nobody_else_does():
    (ava, ava_token), (marco, marco_token), (_, sam_token) = [await register(name) for name in ("ava", "marco", "sam")]
    sockets = [await subscribed(token) for token in (ava_token, marco_token, sam_token)]

    message = await send(ava, marco, "Hello Marco")

    expected = {
        "body": "Hello Marco",
        "kind": "TEXT",
        "sender": {"username": "ava"},
        "conversationId": gid(message.conversation),
    }
    assert await received(sockets[0]) == expected
    assert await received(sockets[1]) == expected
    assert await sockets[2].receive_nothing(0.2)
    for socket in sockets:
        await socket.disconnect()


async def test_a_subscription_to_one_conversation_skips_the_others():
    (ava, ava_token), (marco, _), (sam, _) = [await register(name) for name in ("ava", "marco", "sam")]
    with_marco = (await send(marco, ava, "First")).conversation
    socket = await subscribed(ava_token, {"conversationId": gid(with_marco)})

    await send(sam, ava, "From Sam")
    await send(marco, ava, "From Marco")

    assert (await received(socket))["body"] == "From Marco"
    assert await socket.receive_nothing(0.2)
    await socket.disconnect()


async def test_notifications_subscribers_do_not_get_message_events():
    (ava, _), (marco, marco_token) = [await register(name) for name in ("ava", "marco")]
    communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"])
    await communicator.connect(timeout=3)
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": marco_token}})
    await communicator.receive_json_from()
    await communicator.send_json_to(
        {"id": "n", "type": "subscribe", "payload": {"query": "subscription { notificationAdded { kind title } }"}}
    )
    await asyncio.sleep(0.05)

    await send(ava, marco, "Hello")

    message = await communicator.receive_json_from(timeout=3)
    assert message["payload"]["data"]["notificationAdded"] == {"kind": "MESSAGE", "title": "@ava sent you a message"}
    assert await communicator.receive_nothing(0.2)
    await communicator.disconnect()
