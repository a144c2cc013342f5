"""graphql-transport-ws clients over the real ASGI application (channels' WebsocketCommunicator)."""

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts import services as account_services
from config.asgi import application

PROTOCOL = "graphql-transport-ws"


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
    """The close code the server sent, skipping what came before it."""
    while True:
        message = await communicator.receive_output(timeout)
        if message["type"] == "websocket.close":
            return message.get("code")


async def register(username):
    user, token = await database_sync_to_async(account_services.register)(
        username=username, email=f"{username}@example.com", password="a-long-enough-passphrase"
    )
    return user, token
