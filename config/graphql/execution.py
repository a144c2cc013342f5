"""One way to run a GraphQL operation, shared by the HTTP view and the WebSocket consumer."""

import logging
import re
from functools import cached_property

from django.conf import settings
from django.db import InterfaceError, OperationalError
from graphql import ExecutionContext, ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast

from config.errors import ServiceError
from config.graphql.limits import UNSTORABLE_TEXT, is_unstorable, parse_document, validate_document

logger = logging.getLogger("closetline.graphql")

_SUGGESTION = re.compile(r" Did you mean .*\?$")
# The database is out of reach (connection refused, cut or closed): the client may try again.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
SERVICE_UNAVAILABLE = {
    "message": "The service is briefly unavailable; try again shortly.",
    "extensions": {"code": "SERVICE_UNAVAILABLE"},
}


class OperationRejected(Exception):
    """The document was refused before execution (syntax, limits, validation).

    `well_formed` is False when the request itself was not a GraphQL-over-HTTP request (its
    `query` or `operationName` not a string): HTTP answers that 400 under either media type, a
    document that is refused 200 under application/json (config/graphql/views.py)."""

    def __init__(self, errors: list[GraphQLError], well_formed: bool = True):
        self.errors = errors
        self.well_formed = well_formed
        super().__init__(errors[0].message)


def prepare(schema, query, operation_name):
    """Parse and validate; returns (document, operation type) or raises OperationRejected."""
    if not isinstance(query, str):
        raise OperationRejected([GraphQLError("Provide the query as a non-empty string.")], well_formed=False)
    if not query.strip():
        raise OperationRejected([GraphQLError("Provide the query as a non-empty string.")])
    if operation_name is not None and not isinstance(operation_name, str):
        raise OperationRejected([GraphQLError("operationName must be a string.")], well_formed=False)
    try:
        document = parse_document(query)
    except GraphQLError as error:
        raise OperationRejected([error]) from None
    # Pick the operation first: hundreds of operations sent without operationName are refused
    # before any of them is validated.
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise OperationRejected([GraphQLError("Name the operation to run (operationName).")])
    errors = validate_document(schema.graphql_schema, document)
    if errors:
        raise OperationRejected(errors)
    return document, operation.operation


class SharedEvent(dict):
    """A subscription event rendered the same for every subscriber that sent the same selection:
    its resolvers read the event alone (no viewer, no database, no argument of the subscription
    field). The WebSocket consumer executes it once for all of them."""

    @cached_property
    def share_key(self) -> str:
        """Equal for equal events (JSON values from the channel layer or an event log, whose reprs
        are unambiguous)."""
        return repr(self)


async def shared_events(events):
    """Mark every event of a subscription's stream as a SharedEvent (see there)."""
    try:
        async for event in events:
            yield _shared(event)
    finally:
        await events.aclose()


# The event last marked, and its SharedEvent (see _shared).
_last_shared: tuple[dict, SharedEvent] | None = None


def _shared(event: dict) -> SharedEvent:
    """The subscribers of a broadcast receive the one event object of their process's delivery,
    one after another: they get one SharedEvent too, whose share key is computed once, not a
    thousand times. (The tuple holds the event, so its identity cannot be reused meanwhile.)"""
    global _last_shared
    last = _last_shared
    if last is None or last[0] is not event:
        last = _last_shared = (event, SharedEvent(event))
    return last[1]


class NotExecuted(ExecutionResult):
    """The variables were refused (coercion, or text no column can store): a GraphQL request
    error, so the response has no `data` entry at all, unlike an execution whose errors nulled it."""


class _VariablesRefused(Exception):
    def __init__(self, errors: list[GraphQLError]):
        self.errors = errors


class _ExecutionContext(ExecutionContext):
    """graphql-core's, telling refused variables apart from an execution that produced null data
    (both come back from `execute` as data=None)."""

    @classmethod
    def build(cls, *args, **kwargs):
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            raise _VariablesRefused(built)
        return built


def run(schema, document, context, variables, operation_name, root_value=None) -> ExecutionResult:
    """Execute synchronously: resolvers use the ORM, and list selectors prefetch what they show.
    Refused variables give a NotExecuted result."""
    if _holds_unstorable_text(variables):
        return NotExecuted(data=None, errors=[GraphQLError(UNSTORABLE_TEXT, extensions={"code": "BAD_USER_INPUT"})])
    try:
        return execute(
            schema.graphql_schema,
            document,
            root_value=root_value,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            execution_context_class=_ExecutionContext,
        )
    except _VariablesRefused as refused:
        return NotExecuted(data=None, errors=refused.errors)


def _holds_unstorable_text(variables) -> bool:
    """Whether any string in the variables is text no column can store (see limits.is_unstorable).
    A loop, not recursion: the JSON decoder accepts nesting deeper than a recursive walk could follow."""
    pending = [variables]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if is_unstorable(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def format_error(error: GraphQLError) -> dict:
    """Client-facing error: expected failures keep their code, anything unexpected is masked."""
    original = error.original_error
    if isinstance(original, ServiceError):
        first = original.errors[0]
        extensions = {"code": first.code.name}
        if first.field:
            extensions["field"] = first.field
        return _with_position(error, {"message": first.message, "extensions": extensions})
    if isinstance(original, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable in %s: %s", error.path, original)
        return _with_position(error, dict(SERVICE_UNAVAILABLE))
    if original is not None and not isinstance(original, GraphQLError):
        logger.error("Unexpected error in %s", error.path, exc_info=original)
        if not settings.DEBUG:
            return _with_position(
                error, {"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
            )
    formatted = dict(error.formatted)
    if not settings.GRAPHQL_SUGGESTIONS:
        formatted["message"] = _SUGGESTION.sub("", formatted["message"])
    formatted.setdefault("extensions", {}).setdefault(
        "code", "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT"
    )
    return formatted


def _with_position(error: GraphQLError, formatted: dict) -> dict:
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    return formatted


def is_query(operation_type: OperationType) -> bool:
    return operation_type is OperationType.QUERY
