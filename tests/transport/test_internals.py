"""The transport patches (config/transport/) read framework internals: an upgrade that removes or
reshapes one must fail here, not quietly send every frame the slow way."""

import subprocess
import sys
from types import SimpleNamespace

import pytest
from channels import layers
from twisted.internet import abstract

from config import transport
from config.transport import channel_layer, websocket


def test_every_class_level_internal_is_in_place():
    assert transport.broken_internals() == []


def test_every_internal_of_a_live_connection_is_in_place():
    """Run in a process of its own: opening a connection installs Twisted's reactor."""
    checked = subprocess.run([sys.executable, "-m", "config.transport"], capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_removed_private_attribute_is_reported(monkeypatch):
    monkeypatch.delattr(abstract.FileDescriptor, "_writeDisconnected")

    assert transport.broken_internals() == ["FileDescriptor._writeDisconnected is gone"]


def test_a_reshaped_private_method_is_reported(monkeypatch):
    monkeypatch.setattr(layers.InMemoryChannelLayer, "_clean_expired", lambda self, now: None)

    assert transport.broken_internals() == [
        "InMemoryChannelLayer._clean_expired('self', 'now') no longer takes ('self',)"
    ]


def test_a_missing_connection_attribute_is_reported(monkeypatch):
    protocol = SimpleNamespace(**dict.fromkeys(websocket.RELIED_ON_PER_CONNECTION["protocol"]))
    monkeypatch.setattr(websocket, "sample_connection", lambda: (protocol, SimpleNamespace(socket=None)))
    monkeypatch.setitem(websocket.RELIED_ON_PER_CONNECTION, "transport", ("socket", "_renamedBuffer"))

    assert transport.broken_connection_internals() == ["SimpleNamespace()._renamedBuffer is gone"]


@pytest.mark.asyncio
async def test_the_layer_fills_queues_the_way_its_base_reads_them():
    """group_send hands members one shared (expiry, message) entry; the base's receive unpacks it."""
    layer = channel_layer.InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room", first)
    await layer.group_add("room", second)

    await layer.group_send("room", {"type": "graphql.event", "event": {"seq": 1}})

    assert await layer.receive(first) == await layer.receive(second) == {"type": "graphql.event", "event": {"seq": 1}}


def test_daphne_builds_the_closetline_protocol():
    transport.install()

    assert websocket.WebSocketFactory.protocol is websocket.GraphQLWebSocketProtocol
