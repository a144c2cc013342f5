"""The WebSocket side of /graphql/, speaking `graphql-transport-ws`.

Protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md. Subscriptions run
as graphene async-generator resolvers that listen to channel-layer groups (a process joins each
group once and hands its events to its subscriptions: `GroupHub`); every event is then
executed like an HTTP request, synchronously in the ORM's thread, so resolvers use the ORM as
usual. A broadcast reaches every subscriber of a room at once (a show: a thousand viewers and
more); their executions go to that thread in batches (`EventExecutor`), not one round trip each,
and an event that renders the same for everyone (a `SharedEvent`) is executed and serialised once
for all the subscribers that sent the same selection.
"""

import asyncio
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.utils import timezone
from graphql import ExecutionResult, FieldNode, OperationType, Visitor, get_operation_ast, visit
from graphql.execution import create_source_event_stream

from accounts.selectors import user_for_bearer_header
from config.graphql.execution import OperationRejected, SharedEvent, format_error, prepare, run
from config.graphql.schema import schema
from config.loops import OnePerLoop
from config.media import absolute_uri_for_scope
from config.realtime import auth_token_group

logger = logging.getLogger("closetline.graphql.ws")

PROTOCOL = "graphql-transport-ws"
# Close codes of the protocol.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITS = 4429
TOO_MANY_MESSAGES = 4429  # the protocol's "too many requests": clients do not retry it
MESSAGE_TOO_BIG = 1009  # RFC 6455
# Events waiting for one slow subscription; past this the oldest are dropped (clients that
# need every event, like shows, catch up by sequence number).
SUBSCRIPTION_BUFFER = 500
# Subscription events executed per trip to the ORM thread: the loop sends one batch's results
# while the thread executes the next.
EXECUTION_BATCH = 100
# Distinct documents kept parsed and validated (see _prepared).
PREPARED_DOCUMENTS = 256
# Distinct operation ids whose `next` message head is kept made (see _next_message_head).
MESSAGE_HEADS = 1024


@dataclass
class WebSocketContext:
    """What resolvers get as `info.context` over WebSocket: the same surface as a request."""

    user: object
    META: dict
    consumer: "GraphQLWebSocketConsumer"

    def listen(self, group: str):
        return self.consumer.listen(group)

    def build_absolute_uri(self, location: str) -> str:
        return absolute_uri_for_scope(self.consumer.scope, location)

    async def join(self, group: str) -> "GroupEvents":
        return await self.consumer.join(group)


class GraphQLWebSocketConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = AnonymousUser()
        self.init_received = False
        self.acknowledged = False
        self.operations: dict[str, asyncio.Task] = {}
        self.joined: set[GroupEvents] = set()
        self.timers: list[asyncio.TimerHandle] = []
        self.closing = False
        self.allowance = MessageAllowance(settings.GRAPHQL_WS_MESSAGE_RATE, settings.GRAPHQL_WS_MESSAGE_BURST)
        if PROTOCOL not in self.scope.get("subprotocols", ()):
            await self.accept()
            await self.close(code=SUBPROTOCOL_NOT_ACCEPTABLE)
            return
        await self.accept(subprotocol=PROTOCOL)
        self._later(settings.GRAPHQL_WS_INIT_TIMEOUT, self._close_if_not_initialised)

    async def disconnect(self, code):
        for timer in self.timers:
            timer.cancel()
        for task in list(getattr(self, "operations", {}).values()):
            task.cancel()
        for events in list(getattr(self, "joined", ())):
            await events.aclose()
        token = getattr(self.user, "auth_token", None)
        if token is not None:
            await self.channel_layer.group_discard(auth_token_group(token.pk), self.channel_name)

    async def dispatch(self, message):
        """AsyncConsumer.dispatch without its close_old_connections() before every message: that
        is a thread round trip per channel-layer message, per subscriber, and this consumer
        reaches the ORM only through database_sync_to_async, which closes them itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def close(self, code=None, reason=None):
        """Close once: what the client sent meanwhile (the rest of a flood, say) is not handled."""
        self.closing = True
        await super().close(code=code, reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        if not self.allowance.take():
            return await self.close(code=TOO_MANY_MESSAGES, reason="Too many messages")
        if text_data is None:
            return await self.close(code=BAD_REQUEST, reason="Binary frames are not supported")
        if len(text_data) > settings.GRAPHQL_WS_MAX_FRAME_BYTES:
            return await self.close(code=MESSAGE_TOO_BIG, reason="Message too big")
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):  # the decoder recurses per level: "[[[[..." fits in a frame
            return await self.close(code=BAD_REQUEST, reason="Invalid message received")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self.close(code=BAD_REQUEST, reason="Invalid message received")
        handler = {
            "connection_init": self._on_init,
            "ping": self._on_ping,
            "pong": self._on_pong,
            "subscribe": self._on_subscribe,
            "complete": self._on_complete,
        }.get(message["type"])
        if handler is None:
            return await self.close(code=BAD_REQUEST, reason="Invalid message received")
        await handler(message)

    async def _on_init(self, message):
        if self.init_received:
            return await self.close(code=TOO_MANY_INITS, reason="Too many initialisation requests")
        self.init_received = True
        payload = message.get("payload")
        payload = {} if payload is None else payload
        if not isinstance(payload, dict):
            return await self.close(code=BAD_REQUEST, reason="Invalid message received")
        header = _bearer_header(payload)
        if header:
            user = await database_sync_to_async(user_for_bearer_header)(header)
            if user is None:
                return await self.close(code=FORBIDDEN, reason="Forbidden")
            self.user = user
            token = user.auth_token
            await self.channel_layer.group_add(auth_token_group(token.pk), self.channel_name)
            self._later((token.expires_at - timezone.now()).total_seconds(), self._close_forbidden)
        self.acknowledged = True
        await self._send({"type": "connection_ack"})

    async def _on_ping(self, message):
        await self._send({"type": "pong"})

    async def _on_pong(self, message):
        pass

    async def _on_subscribe(self, message):
        if not self.acknowledged:
            return await self.close(code=UNAUTHORIZED, reason="Unauthorized")
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            return await self.close(code=BAD_REQUEST, reason="Invalid message received")
        if operation_id in self.operations:
            return await self.close(code=SUBSCRIBER_EXISTS, reason=f"Subscriber for {operation_id} already exists")
        variables, operation_name = payload.get("variables"), payload.get("operationName") or None
        if variables is not None and not isinstance(variables, dict):
            return await self._send_errors(operation_id, [{"message": "variables must be a JSON object."}])
        if len(self.operations) >= settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS:
            return await self._send_errors(
                operation_id,
                [{"message": "Too many operations on this connection.", "extensions": {"code": "RATE_LIMITED"}}],
            )
        try:
            document, operation_type = _prepare(payload.get("query"), operation_name)
        except OperationRejected as rejected:
            return await self._send_errors(operation_id, [format_error(error) for error in rejected.errors])
        runner = self._stream if operation_type is OperationType.SUBSCRIPTION else self._execute_once
        task = asyncio.create_task(runner(operation_id, document, variables, operation_name))
        self.operations[operation_id] = task
        task.add_done_callback(lambda _task: self.operations.pop(operation_id, None))

    async def _on_complete(self, message):
        task = self.operations.pop(message.get("id"), None) if isinstance(message.get("id"), str) else None
        if task is not None:
            task.cancel()

    async def _execute_once(self, operation_id, document, variables, operation_name):
        payload = await database_sync_to_async(_render)(document, self._context(), variables, operation_name)
        await self._send_next(operation_id, payload)
        await self._send({"id": operation_id, "type": "complete"})

    async def _stream(self, operation_id, document, variables, operation_name):
        try:
            source = await create_source_event_stream(
                schema.graphql_schema,
                document,
                context_value=self._context(),
                variable_values=variables,
                operation_name=operation_name,
            )
            if isinstance(source, ExecutionResult):
                return await self._send_errors(operation_id, [format_error(error) for error in source.errors])
            selection = _selection_key(document, operation_name, variables)
            try:
                async for event in source:
                    shared_as = (*selection, event.share_key) if isinstance(event, SharedEvent) else None
                    payload = await EventExecutor.of_running_loop().run(
                        (document, self._context(), variables, operation_name, event), shared_as
                    )
                    await self._send_next(operation_id, payload)
            finally:
                await source.aclose()
            await self._send({"id": operation_id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Subscription %s failed", operation_id)
            await self._send_errors(
                operation_id, [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
            )

    async def listen(self, group: str):
        """Yield the events broadcast to `group` (see config.realtime) while subscribed."""
        events = await self.join(group)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def join(self, group: str) -> "GroupEvents":
        """Join `group` now and return its events from this moment on. A subscription that also
        reads stored history (a show's event log) joins first, so that no event falls between
        what it read and what it hears."""
        events = GroupEvents(self, group, asyncio.Queue())
        self.joined.add(events)
        try:
            await GroupHub.of_running_loop().join(group, events.queue)
        except BaseException:
            self.joined.discard(events)
            raise
        return events

    # Channel-layer handlers (message types from config.realtime).
    async def auth_revoked(self, message):
        await self._close_forbidden()

    def _context(self) -> WebSocketContext:
        client = self.scope.get("client") or ("", 0)
        return WebSocketContext(user=self.user, META={"REMOTE_ADDR": client[0]}, consumer=self)

    def _later(self, seconds: float, callback):
        loop = asyncio.get_running_loop()
        self.timers.append(loop.call_later(max(seconds, 0), lambda: asyncio.ensure_future(callback())))

    async def _close_if_not_initialised(self):
        if not self.init_received:
            await self.close(code=INIT_TIMEOUT, reason="Connection initialisation timeout")

    async def _close_forbidden(self):
        await self.close(code=FORBIDDEN, reason="Forbidden")

    async def _send_next(self, operation_id, payload: str):
        """Send a `next` message around a payload serialised once (see _render)."""
        await self.send(text_data=f"{_next_message_head(operation_id)}{payload}}}")

    async def _send_errors(self, operation_id, errors: list[dict]):
        await self._send({"id": operation_id, "type": "error", "payload": errors})

    async def _send(self, message: dict):
        await self.send(text_data=json.dumps(message, separators=(",", ":"), default=str))


@dataclass
class _Execution:
    arguments: tuple  # of _render
    waiting: list[asyncio.Future] = field(default_factory=list)


class EventExecutor(OnePerLoop):
    """Executes subscription events in the ORM's thread, EXECUTION_BATCH executions at a time.

    Every subscriber of a broadcast asks at about the same moment; the requests made before the
    loop gets back to this executor form batches, each one trip to the thread, results handed back
    in the loop. Requests with the same share key (a SharedEvent and the same selection) wait for
    one execution, queued or already running.
    """

    def __init__(self):
        self.pending: dict[object, _Execution] = {}
        self.running: dict[object, _Execution] = {}
        self.draining: asyncio.Task | None = None

    async def run(self, arguments: tuple, share_key=None) -> str:
        """The serialised payload of executing `arguments` (those of _render)."""
        future = asyncio.get_running_loop().create_future()
        key = future if share_key is None else share_key
        execution = self.running.get(key) or self.pending.setdefault(key, _Execution(arguments))
        execution.waiting.append(future)
        if self.draining is None:
            self.draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self):
        try:
            while self.pending:
                keys = list(itertools.islice(self.pending, EXECUTION_BATCH))
                batch = {key: self.pending.pop(key) for key in keys}
                self.running = batch
                outcomes = await database_sync_to_async(_execute_all)([run.arguments for run in batch.values()])
                self.running = {}
                for execution, (payload, error) in zip(batch.values(), outcomes, strict=False):
                    for future in execution.waiting:
                        if not future.done():  # its subscription may have ended meanwhile
                            future.set_exception(error) if error else future.set_result(payload)
        finally:
            self.running = {}
            self.draining = None


def _prepare(query, operation_name):
    if isinstance(query, str) and (operation_name is None or isinstance(operation_name, str)):
        return _prepared(query, operation_name)
    return prepare(schema, query, operation_name)  # rejects it


@lru_cache(maxsize=PREPARED_DOCUMENTS)
def _prepared(query: str, operation_name: str | None):
    """Parse and validate a document once for all the subscriptions that send it: the thousand
    viewers of a show send the same one, and a parsed copy each (some 160 objects with its
    tokens) would make every full garbage collection of the process walk them all. Documents are
    never changed by execution; rejections raise, so they are not kept."""
    return prepare(schema, query, operation_name)


# Validation reads the limits in settings; tests change them.
setting_changed.connect(lambda **kwargs: _prepared.cache_clear(), weak=False)


def _execute_all(batch: list[tuple]) -> list[tuple[str | None, Exception | None]]:
    outcomes = []
    for arguments in batch:
        try:
            outcomes.append((_render(*arguments), None))
        except Exception as error:  # one subscription's failure is its own
            outcomes.append((None, error))
    return outcomes


def _render(document, context, variables, operation_name, root_value=None) -> str:
    """Execute (in the ORM's thread) and serialise the payload of a `next` message: the JSON is
    made here once, however many subscribers share it."""
    result = run(schema, document, context, variables, operation_name, root_value=root_value)
    payload = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(error) for error in result.errors]
    return json.dumps(payload, separators=(",", ":"), default=str)


@lru_cache(maxsize=MESSAGE_HEADS)
def _next_message_head(operation_id: str) -> str:
    """The start of a `next` message, up to its payload: made once per operation id, not per event."""
    return f'{{"id":{json.dumps(operation_id)},"type":"next","payload":'


def _selection_key(document, operation_name, variables) -> tuple:
    """What a SharedEvent's rendering depends on besides the event: the selection (one parsed
    document object per distinct text, see _prepared) and the variables it reads. Variables that
    only the subscription field's arguments read choose the stream, not how an event renders, so
    they are left out: viewers who resumed from different points still share."""
    read = _variables_read_by_selection(document, operation_name)
    chosen = {name: value for name, value in (variables or {}).items() if name in read}
    return id(document), operation_name, json.dumps(chosen, sort_keys=True, default=str)


def _variables_read_by_selection(document, operation_name) -> set[str]:
    operation = get_operation_ast(document, operation_name)
    parts = [*operation.directives, *(definition for definition in document.definitions if definition is not operation)]
    for root in operation.selection_set.selections:
        if isinstance(root, FieldNode):  # its arguments aside
            parts += [*root.directives, *([root.selection_set] if root.selection_set else [])]
        else:
            parts.append(root)
    collector = _VariableNames()
    for part in parts:
        visit(part, collector)
    return collector.names


class _VariableNames(Visitor):
    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node, *_):
        self.names.add(node.name.value)


class GroupEvents:
    """The events of one joined group, in arrival order; `aclose()` leaves the group (also when
    the events were never read, which a generator's `finally` would not see)."""

    def __init__(self, consumer: GraphQLWebSocketConsumer, group: str, queue: asyncio.Queue):
        self.consumer, self.group, self.queue = consumer, group, queue

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.queue.get()

    async def aclose(self):
        if self in self.consumer.joined:
            self.consumer.joined.discard(self)
            await GroupHub.of_running_loop().leave(self.group, self.queue)


class GroupHub(OnePerLoop):
    """The members of a server process (one per event loop) in channel-layer groups: the process
    joins a group once, through a channel of its own, and hands each event to the queues of its
    subscriptions. A broadcast to a thousand viewers of a process is then one delivery and one
    decoding, not a thousand (each a receive, a dispatch and, on Redis, a msgpack decoding)."""

    def __init__(self):
        self.memberships: dict[str, _Membership] = {}

    async def join(self, group: str, queue: asyncio.Queue) -> None:
        """Returns once the process is in the group: every event broadcast from then on reaches `queue`."""
        membership = self.memberships.get(group)
        if membership is None:
            membership = self.memberships[group] = _Membership()
            membership.ready = asyncio.ensure_future(self._open(group, membership))
        membership.queues.add(queue)
        try:
            await asyncio.shield(membership.ready)
        except BaseException:
            await self.leave(group, queue)
            raise

    async def leave(self, group: str, queue: asyncio.Queue) -> None:
        membership = self.memberships.get(group)
        if membership is None or queue not in membership.queues:
            return
        membership.queues.discard(queue)
        if membership.queues:
            return
        del self.memberships[group]
        if membership.reader is not None:
            membership.reader.cancel()
        if membership.channel is not None:
            await get_channel_layer().group_discard(group, membership.channel)

    async def _open(self, group: str, membership: "_Membership") -> None:
        layer = get_channel_layer()
        membership.channel = await layer.new_channel()
        await layer.group_add(group, membership.channel)
        membership.reader = asyncio.create_task(self._read(layer, membership))

    @staticmethod
    async def _read(layer, membership: "_Membership") -> None:
        while True:
            message = await layer.receive(membership.channel)
            for queue in membership.queues:
                if queue.qsize() >= SUBSCRIPTION_BUFFER:
                    queue.get_nowait()
                queue.put_nowait(message["event"])


@dataclass
class _Membership:
    queues: set[asyncio.Queue] = field(default_factory=set)
    ready: asyncio.Future | None = None
    channel: str | None = None
    reader: asyncio.Task | None = None


def _bearer_header(payload: dict) -> str:
    """The token from connection_init: `{"token": "..."}` or an `Authorization` entry."""
    token = payload.get("token")
    if isinstance(token, str) and token:
        return f"Bearer {token}"
    for key in ("Authorization", "authorization"):
        if isinstance(payload.get(key), str):
            return payload[key]
    headers = payload.get("headers")
    if isinstance(headers, dict):
        return _bearer_header({key: value for key, value in headers.items() if key.lower() == "authorization"})
    return ""


class MessageAllowance:
    """A token bucket: `rate` messages a second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
