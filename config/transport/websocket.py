"""Daphne's WebSocket protocol for /graphql/: frame-level limits and the broadcast fast path.

Written for daphne 4.2, autobahn 26.11 and Twisted 26.10 (pinned in pyproject.toml); what it reads
of their internals is listed below and checked by tests/transport/test_internals.py.
"""

import socket

from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from autobahn.websocket.protocol import WebSocketServerFactory
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings
from twisted.internet import abstract, tcp


class GraphQLWebSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol with the limits of /graphql/ enforced on the bytes themselves.

    - Oversized messages: autobahn refuses one from its frame header, before buffering it, and
      closes with 1009 (failing with a close frame rather than a dropped socket). The consumer's
      own check cannot close with 1009 here: daphne only sends 1000 and 3000-4999 and answers
      anything else with an exception and 1011.
    - Clients that do not read: daphne writes every message to the socket's transport at once and
      Twisted keeps whatever the kernel does not take, without limit, so a viewer that stops
      reading would make the process hold every event of its show until daphne's ping timeout
      (20 s + 30 s). Twisted pauses the transport's producer when its buffer passes 64 KiB and
      resumes it once the buffer is flushed; what is written in between is counted, and past
      GRAPHQL_WS_MAX_SEND_BUFFER_BYTES the connection is aborted (its buffer freed, the consumer
      told of the disconnection; a reconnecting viewer catches up by sequence number).
    - Messages sent after a close has begun (an event racing the close) are dropped: autobahn
      would raise instead.
    - A text sent to many viewers is framed once (_prepared), and frames go to the socket at once
      (sendData).
    """

    unsent_bytes = 0  # written since the transport's buffer passed its mark

    def onConnect(self, request):
        self.maxMessagePayloadSize = settings.GRAPHQL_WS_MAX_FRAME_BYTES
        self.failByDrop = False
        return super().onConnect(request)

    def serverSend(self, content, binary=False):
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            return
        if binary or self.state != self.STATE_OPEN:
            super().serverSend(content, binary)
        else:
            self.sendPreparedMessage(self._prepared(content))
        if not getattr(self.transport, "producerPaused", False):  # flushed (a TLS transport never says)
            self.unsent_bytes = 0
            return
        self.unsent_bytes += len(content)
        if self.unsent_bytes > settings.GRAPHQL_WS_MAX_SEND_BUFFER_BYTES and not self.droppedByMe:
            self.dropConnection(abort=True)

    _last_prepared = ("", None)  # (text, its PreparedMessage): see _prepared

    def _prepared(self, text: str):
        """The frame of `text`, made once for all the viewers a broadcast sends it to, one after
        another (autobahn's prepared messages, meant for broadcasts): a thousand viewers of a
        show get the same `next` message. Comparing equal texts costs far less than framing."""
        last_text, prepared = GraphQLWebSocketProtocol._last_prepared
        if prepared is None or last_text != text:
            prepared = self.factory.prepareMessage(text.encode("utf8"))
            GraphQLWebSocketProtocol._last_prepared = (text, prepared)
        return prepared

    def sendData(self, data, sync=False, chopsize=None):
        """Autobahn's sendData in the case daphne uses (a whole frame, now), without two costs that
        a broadcast to a thousand viewers pays a thousand times: a debug log line's arguments,
        formatted even with debug off, and Twisted's deferred write (register the socket for
        writing, wait for the reactor to find it writable, send, unregister: two epoll_ctl calls
        and a dispatch per frame). When nothing waits in the transport's buffer, the frame is sent
        at once, as an asyncio transport does; what the kernel does not take goes through the
        transport as before, and counts toward the slow-reader limit. Measured by
        bench/bench_live.py: the server's CPU per featured item to 1,000 viewers, see README."""
        transport = self.transport
        if sync or chopsize or self.send_queue or not _is_idle_plain_tcp(transport):
            return super().sendData(data, sync, chopsize)
        try:
            sent = transport.socket.send(data)
        except OSError:  # would block, or the connection is gone: the transport's own write finds out
            sent = 0
        if sent < len(data):
            transport.write(data[sent:])


def _is_idle_plain_tcp(transport) -> bool:
    """A TCP connection without TLS, open, with nothing of its own still to write. Its buffers are
    Twisted's own attributes: should a release rename them, every frame takes Twisted's way."""
    return (
        isinstance(transport, tcp.Connection)
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not getattr(transport, "_writeDisconnected", True)
        and getattr(transport, "dataBuffer", None) == b""
        and getattr(transport, "_tempDataLen", None) == 0
    )


def install() -> None:
    """Daphne builds its protocols from this class attribute; the application is loaded before it serves."""
    WebSocketFactory.protocol = GraphQLWebSocketProtocol


# (owner, name, parameters of a method or type of an attribute) that the class above overrides or reads.
RELIED_ON = (
    (WebSocketFactory, "protocol", type),
    (WebSocketProtocol, "onConnect", ("self", "request")),
    (WebSocketProtocol, "serverSend", ("self", "content", "binary")),
    (AutobahnProtocol, "sendData", ("self", "data", "sync", "chopsize")),
    (AutobahnProtocol, "sendPreparedMessage", ("self", "preparedMsg")),
    (AutobahnProtocol, "dropConnection", ("self", "abort")),
    (AutobahnProtocol, "STATE_OPEN", int),
    (AutobahnProtocol, "STATE_CLOSING", int),
    (AutobahnProtocol, "STATE_CLOSED", int),
    (WebSocketServerFactory, "prepareMessage", ("self", "payload")),
    (abstract.FileDescriptor, "producerPaused", bool),
    (abstract.FileDescriptor, "dataBuffer", bytes),
    (abstract.FileDescriptor, "_writeDisconnected", bool),
    (tcp.Connection, "TLS", bool),
)

# Attributes a live connection's protocol and transport must have: set when they are made, so
# checked on real ones (see sample_connection).
RELIED_ON_PER_CONNECTION = {
    "protocol": ("state", "send_queue", "droppedByMe", "transport", "factory", "maxMessagePayloadSize", "failByDrop"),
    "transport": ("socket", "connected", "disconnecting", "_tempDataLen"),
}


def sample_connection():
    """A protocol as daphne's factory builds it, opened on an in-memory transport, and a Twisted TCP
    connection over a socket pair: real objects to look for the per-connection attributes on.
    Opening the protocol starts autobahn's timers on the reactor, so call this where a reactor may
    be installed (python -m config.transport does it in a process of its own)."""
    from twisted.internet.testing import StringTransport

    protocol = WebSocketFactory(server_class=None).buildProtocol(None)
    protocol.makeConnection(StringTransport())
    ours, theirs = socket.socketpair()
    theirs.close()
    transport = tcp.Connection(ours, protocol=None, reactor=object())  # no reactor: nothing is scheduled
    return protocol, transport
