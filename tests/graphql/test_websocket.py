"""graphql-transport-ws over the real ASGI application (origin check, consumer, channel layer)."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AuthToken
from config.asgi import application
from notifications import services as notification_services

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOL = "graphql-transport-ws"
NOTIFICATIONS = "subscription { notificationAdded { title body kind } }"


async def open_socket(origin=None, subprotocols=(PROTOCOL,)):
    headers = [(b"origin", origin.encode())] if origin else []
    communicator = WebsocketCommunicator(application, "/graphql/", headers=headers, subprotocols=list(subprotocols))
    connected, subprotocol = await communicator.connect(timeout=3)
    return communicator, connected, subprotocol


async def initialised(token=None):
    communicator, connected, subprotocol = await open_socket()
    assert connected and subprotocol == PROTOCOL
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": token} if token else {}})
    assert await communicator.receive_json_from() == {"type": "connection_ack"}
    return communicator


async def closed_with(communicator, timeout=2):
    while True:
        message = await communicator.receive_output(timeout)
        if message["type"] == "websocket.close":
            return message.get("code")


async def register(username):
    user, token = await database_sync_to_async(account_services.register)(
        username=username, email=f"{username}@example.com", password="a-long-enough-passphrase")
    return user, token


async def notify(user, title):
    await database_sync_to_async(notification_services.notify)(
        recipient_ids=[user.pk], kind="system", title=title, body="body", dedupe_key=f"test:{title}")


async def test_ping_pong():
    communicator = await initialised()
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.send_json_to({"type": "pong"})
    assert await communicator.receive_nothing(0.1)
    await communicator.disconnect()


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
    await communicator.send_json_to({"type": "connection_init"})
    assert await closed_with(communicator) == 4429


async def test_no_init_within_the_timeout_is_closed_4408(settings):
    settings.GRAPHQL_WS_INIT_TIMEOUT = 0.2
    communicator, _, _ = await open_socket()
    assert await closed_with(communicator) == 4408


@pytest.mark.parametrize("frame", ['{"type": "connection_init"', '["connection_init"]', '{"type": "start"}',
                                   '{"type": 1}', '{"no": "type"}'])
async def test_invalid_messages_are_closed_4400(frame):
    communicator, _, _ = await open_socket()
    await communicator.send_to(text_data=frame)
    assert await closed_with(communicator) == 4400


async def test_binary_frames_are_closed_4400():
    communicator, _, _ = await open_socket()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await closed_with(communicator) == 4400


async def test_oversized_frames_are_closed_1009(settings):
    settings.GRAPHQL_WS_MAX_FRAME_BYTES = 1000
    communicator = await initialised()
    await communicator.send_json_to({"type": "ping", "payload": {"pad": "x" * 2000}})
    assert await closed_with(communicator) == 1009


async def test_bad_token_in_init_is_closed_4403():
    communicator, _, _ = await open_socket()
    await communicator.send_json_to({"type": "connection_init", "payload": {"token": "not-a-token"}})
    assert await closed_with(communicator) == 4403


async def test_a_subscription_delivers_only_the_viewers_notifications():
    ava, ava_token = await register("ava")
    marco, _ = await register("marco")
    communicator = await initialised(ava_token)
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    await asyncio.sleep(0.05)  # let the subscription join its group
    await notify(marco, "not for ava")
    await notify(ava, "Your item sold")
    message = await communicator.receive_json_from(timeout=2)
    assert message == {"id": "n", "type": "next",
                       "payload": {"data": {"notificationAdded": {"title": "Your item sold", "body": "body",
                                                                  "kind": "SYSTEM"}}}}
    assert await communicator.receive_nothing(0.2)
    await communicator.disconnect()


async def test_complete_stops_a_subscription():
    ava, token = await register("ava")
    communicator = await initialised(token)
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    await asyncio.sleep(0.05)
    await communicator.send_json_to({"id": "n", "type": "complete"})
    await asyncio.sleep(0.05)
    await notify(ava, "after complete")
    assert await communicator.receive_nothing(0.3)
    # The id is free again.
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    await asyncio.sleep(0.05)
    await notify(ava, "again")
    assert (await communicator.receive_json_from(timeout=2))["payload"]["data"]["notificationAdded"]["title"] == "again"
    await communicator.disconnect()


async def test_duplicate_operation_id_is_closed_4409():
    _, token = await register("ava")
    communicator = await initialised(token)
    for _ in range(2):
        await communicator.send_json_to({"id": "same", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    assert await closed_with(communicator) == 4409


async def test_anonymous_subscription_gets_a_typed_error():
    communicator = await initialised()
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "error" and message["id"] == "n"
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await communicator.disconnect()


async def test_invalid_documents_get_an_error_message_not_a_close():
    communicator = await initialised()
    await communicator.send_json_to({"id": "bad", "type": "subscribe", "payload": {"query": "subscription { nope }"}})
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "error" and message["id"] == "bad"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_queries_run_once_then_complete():
    _, token = await register("ava")
    communicator = await initialised(token)
    await communicator.send_json_to({"id": "q", "type": "subscribe", "payload": {"query": "{ me { username } }"}})
    assert await communicator.receive_json_from(timeout=2) == {"id": "q", "type": "next",
                                                               "payload": {"data": {"me": {"username": "ava"}}}}
    assert await communicator.receive_json_from(timeout=2) == {"id": "q", "type": "complete"}
    await communicator.disconnect()


async def test_logout_closes_the_sockets_of_that_token():
    _, token = await register("ava")
    communicator = await initialised(token)
    stored = await database_sync_to_async(AuthToken.objects.get)()
    await database_sync_to_async(account_services.logout)(token=stored)
    assert await closed_with(communicator) == 4403


async def test_a_socket_closes_when_its_token_expires():
    _, token = await register("ava")
    await database_sync_to_async(AuthToken.objects.update)(expires_at=timezone.now() + timedelta(seconds=0.5))
    communicator = await initialised(token)
    assert await closed_with(communicator, timeout=3) == 4403


async def test_foreign_browser_origin_is_refused():
    communicator, connected, _ = await open_socket(origin="https://evil.example")
    assert not connected


@pytest.mark.parametrize("origin", [None, "http://localhost:8000"])
async def test_native_clients_and_allowed_origins_connect(origin):
    communicator, connected, _ = await open_socket(origin=origin)
    assert connected
    await communicator.disconnect()
