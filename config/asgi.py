import gc
import os

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.asgi import get_asgi_application
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol  # noqa: E402
from twisted.internet import tcp  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from config.graphql.consumers import GraphQLWebSocketConsumer  # noqa: E402
from config.graphql.origins import BrowserOriginValidator  # noqa: E402

# The garbage collector of a process serving thousands of WebSocket subscriptions.
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_garbage_collector():
    """A full collection stops the process while it walks every tracked object, and a thousand
    subscriptions are half a million of them: some 300 ms during which no viewer gets anything.
    With the default thresholds (700, 10, 10) the short-lived objects of one broadcast to a
    thousand subscribers outlive the young generations and set off such a collection every few
    broadcasts; larger young generations let them die young. What startup loaded (Django, the
    schema) is never garbage, so it is frozen out of the walks. Measured by bench/bench_live.py
    (featured item to 1,000 viewers: p99 ~450 ms → ~240 ms)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


_tune_garbage_collector()


def closing_database_connections(http_app):
    """Django runs each HTTP request's sync code in a thread of its own (a ThreadSensitiveContext
    per request), so a connection it keeps for reuse (CONN_MAX_AGE) is never reused: each request
    left one open until PostgreSQL refused new clients and every request failed (found by
    bench/bench_load.py). This outer context is the one Django's handler joins, so the request's
    connections are closed in the request's thread when it is over. WebSocket consumers reuse their
    threads and keep their connections."""

    async def app(scope, receive, send):
        async with ThreadSensitiveContext():
            try:
                await http_app(scope, receive, send)
            finally:
                await sync_to_async(connections.close_all)()

    return app


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
    return (isinstance(transport, tcp.Connection) and not transport.TLS and transport.connected
            and not transport.disconnecting and not getattr(transport, "_writeDisconnected", True)
            and getattr(transport, "dataBuffer", None) == b"" and getattr(transport, "_tempDataLen", None) == 0)


# Daphne builds its protocols from this class attribute; the application is loaded before it serves.
WebSocketFactory.protocol = GraphQLWebSocketProtocol

application = ProtocolTypeRouter(
    {
        "http": closing_database_connections(django_asgi_app),
        "websocket": BrowserOriginValidator(URLRouter([path("graphql/", GraphQLWebSocketConsumer.as_asgi())])),
    }
)
