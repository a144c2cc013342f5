"""graphql-transport-ws over the real ASGI application (origin check, consumer, channel layer).

Hostile clients (and every close code) are in tests/hardening/test_hostile_websockets.py."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AuthToken
from notifications import services as notification_services
from tests.graphql.helpers import closed_with, initialised, open_socket, register

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFICATIONS = "subscription { notificationAdded { title body kind } }"


async def notify(user, title):
    await database_sync_to_async(notification_services.notify)(
        recipient_ids=[user.pk], kind="system", title=title, body="body", dedupe_key=f"test:{title}"
    )


async def test_ping_pong():
    communicator = await initialised()
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.send_json_to({"type": "pong"})
    assert await communicator.receive_nothing(0.1)
    await communicator.disconnect()


async def test_a_subscription_delivers_only_the_viewers_notifications():
    ava, ava_token = await register("ava")
    marco, _ = await register("marco")
    communicator = await initialised(ava_token)
    await communicator.send_json_to({"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
    await asyncio.sleep(0.05)  # let the subscription join its group
    await notify(marco, "not for ava")
    await notify(ava, "Your item sold")
    message = await communicator.receive_json_from(timeout=2)
    assert message == {
        "id": "n",
        "type": "next",
        "payload": {"data": {"notificationAdded": {"title": "Your item sold", "body": "body", "kind": "SYSTEM"}}},
    }
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
    assert await communicator.receive_json_from(timeout=2) == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"me": {"username": "ava"}}},
    }
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


@pytest.mark.parametrize("origin", [None, "http://localhost:8000"])
async def test_native_clients_and_allowed_origins_connect(origin):
    communicator, connected, _ = await open_socket(origin=origin)
    assert connected
    await communicator.disconnect()
