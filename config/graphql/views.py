"""The HTTP side of /graphql/: JSON (single or batched) and multipart uploads, bearer auth,
GraphQL over HTTP's media types and statuses (see negotiate and _status).

Authentication is by `Authorization: Bearer <token>` only, never the session cookie, which is
why the endpoint needs no CSRF token: a foreign page cannot make a browser attach the header.
"""

import json
import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from accounts.selectors import user_for_bearer_header
from config.graphql.execution import (
    DATABASE_UNAVAILABLE,
    SERVICE_UNAVAILABLE,
    NotExecuted,
    OperationRejected,
    format_error,
    is_query,
    prepare,
    run,
)
from config.graphql.schema import schema

logger = logging.getLogger("closetline.graphql")


# Response media types (GraphQL over HTTP): the one the client asks for in Accept. Under
# application/json a well-formed request whose document or variables are refused answers 200 with
# `errors` (a client cannot trust a 4xx from a proxy); under application/graphql-response+json it
# answers 400. A request with no Accept is treated as asking for application/graphql-response+json
# (the spec's default since 2025-01-01); `*/*` and `application/*` get application/json (the
# legacy type every client reads).
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_WILDCARDS = ("*/*", "application/*")


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when it allows neither (406).
    Highest q first; at equal q a named type before a wildcard, then the order given."""
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    best, best_rank = None, None
    for index, item in enumerate(accept.split(",")):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        media_range = media_range.lower()
        quality, charset_ok = 1.0, True
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"').lower()
            if name == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
            elif name == "charset":
                charset_ok = value in ("utf-8", "utf8")
        if quality <= 0 or not charset_ok:
            continue
        if media_range in (GRAPHQL_RESPONSE_JSON, JSON):
            candidate, named = media_range, True
        elif media_range in _WILDCARDS:
            candidate, named = JSON, False
        else:
            continue
        rank = (quality, named, -index)
        if best_rank is None or rank > best_rank:
            best, best_rank = candidate, rank
    return best


def graphql_response(body, media_type: str, status: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder),
        status=status,
        content_type=f"{media_type}; charset=utf-8",
        headers=headers or None,
    )
    patch_vary_headers(response, ("Accept",))
    return response


class RequestRejected(Exception):
    """Refused before any GraphQL: the same status under either media type."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST", headers: dict | None = None):
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        super().__init__(message)

    def response(self, media_type: str) -> HttpResponse:
        body = {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}
        return graphql_response(body, media_type, self.status, **self.headers)


# How an operation ended, for its status (see _status).
EXECUTED, REFUSED, MALFORMED = "executed", "refused", "malformed"


@method_decorator(csrf_exempt, name="dispatch")
class GraphQLEndpoint(View):
    http_method_names = ["get", "post", "options"]

    def dispatch(self, request, *args, **kwargs):
        if request.method in ("GET", "POST"):
            if request.method == "GET" and settings.DEBUG and GraphQLView.request_wants_html(request):
                return render(request, "graphiql.html")
            request.graphql_media_type = negotiate(request.headers.get("Accept"))
            if request.graphql_media_type is None:
                body = {
                    "errors": [
                        {
                            "message": f"Accept must allow {GRAPHQL_RESPONSE_JSON} or {JSON} (in UTF-8).",
                            "extensions": {"code": "NOT_ACCEPTABLE"},
                        }
                    ]
                }
                return graphql_response(body, JSON, 406)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest):
        return self._respond(request, dict(request.GET.items()), from_get=True)

    def post(self, request: HttpRequest):
        try:
            payload = self._parse_body(request)
        except RequestRejected as rejected:
            return rejected.response(request.graphql_media_type)
        return self._respond(request, payload, from_get=False)

    def _respond(self, request, payload, from_get: bool):
        media_type = request.graphql_media_type
        try:
            request.user = self._authenticate(request)
            if isinstance(payload, list):
                if not 0 < len(payload) <= settings.GRAPHQL_MAX_BATCH:
                    raise RequestRejected(400, f"A batch holds 1 to {settings.GRAPHQL_MAX_BATCH} operations.")
                results = [self._execute(request, entry, from_get)[0] for entry in payload]
                return graphql_response(results, media_type)
            body, outcome = self._execute(request, payload, from_get)
            return graphql_response(body, media_type, _status(outcome, media_type))
        except RequestRejected as rejected:
            return rejected.response(media_type)
        except DATABASE_UNAVAILABLE as error:  # outside any resolver: looking up the bearer token
            logger.warning("Database unavailable: %s", error)
            return graphql_response({"errors": [SERVICE_UNAVAILABLE]}, media_type, 503)

    @staticmethod
    def _authenticate(request):
        header = request.headers.get("Authorization")
        if not header:
            return AnonymousUser()
        user = user_for_bearer_header(header)
        if user is None:
            raise RequestRejected(401, "The token is invalid, expired or revoked; log in again.", "UNAUTHENTICATED")
        return user

    def _parse_body(self, request):
        content_type = request.content_type
        limit = (
            settings.GRAPHQL_MAX_UPLOAD_BYTES
            if content_type == "multipart/form-data"
            else settings.GRAPHQL_MAX_BODY_BYTES
        )
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            raise RequestRejected(400, "Invalid Content-Length.") from None
        if declared > limit:
            raise RequestRejected(413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE")
        try:
            if content_type == "application/json":
                return _json(request.body, "The body is not valid JSON.")
            if content_type == "multipart/form-data":
                return _multipart_operations(request)
        except RequestDataTooBig:
            raise RequestRejected(413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE") from None
        raise RequestRejected(
            415, "Send application/json, or multipart/form-data for uploads.", "UNSUPPORTED_MEDIA_TYPE"
        )

    @staticmethod
    def _execute(request, entry, from_get: bool) -> tuple[dict, str]:
        """The response body of one operation and how it ended (EXECUTED, REFUSED, MALFORMED)."""
        if not isinstance(entry, dict):
            return {
                "errors": [{"message": "Each operation must be a JSON object.", "extensions": {"code": "BAD_REQUEST"}}]
            }, MALFORMED
        variables = entry.get("variables")
        if isinstance(variables, str) and from_get:
            variables = _json(variables.encode(), "variables is not valid JSON.")
        if variables is not None and not isinstance(variables, dict):
            return {
                "errors": [{"message": "variables must be a JSON object.", "extensions": {"code": "BAD_REQUEST"}}]
            }, MALFORMED
        operation_name = entry.get("operationName") or None
        try:
            document, operation_type = prepare(schema, entry.get("query"), operation_name)
        except OperationRejected as rejected:
            return {
                "errors": [format_error(error) for error in rejected.errors]
            }, REFUSED if rejected.well_formed else MALFORMED
        if from_get and not is_query(operation_type):
            raise RequestRejected(
                405, "Only queries may be sent with GET; use POST.", "METHOD_NOT_ALLOWED", headers={"Allow": "POST"}
            )
        result = run(schema, document, request, variables, operation_name)
        if isinstance(result, NotExecuted):  # the variables were refused: no `data` entry
            return {"errors": [format_error(error) for error in result.errors]}, REFUSED
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(error) for error in result.errors]
        return body, EXECUTED


def _status(outcome: str, media_type: str) -> int:
    """GraphQL over HTTP: an executed operation is 200 whatever its field errors (its `data` may
    be null); a refused document or variables 200 under application/json, 400 under
    application/graphql-response+json; a request that is not a GraphQL request 400 under both."""
    if outcome == EXECUTED:
        return 200
    if outcome == REFUSED and media_type == JSON:
        return 200
    return 400


def _json(raw: bytes, message: str):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestRejected(400, message) from None
    except RecursionError:  # the decoder recurses per level: a body of "[[[[..." would be a 500
        raise RequestRejected(400, "The JSON is nested too deeply.") from None


def _multipart_operations(request):
    """Apply the GraphQL multipart request spec: put each file where `map` says."""
    operations = _json(request.POST.get("operations", "").encode(), "operations is not valid JSON.")
    file_map = _json(request.POST.get("map", "{}").encode(), "map is not valid JSON.")
    if not isinstance(file_map, dict) or not isinstance(operations, (dict, list)):
        raise RequestRejected(400, "operations must be an object or list and map an object.")
    for key, paths in file_map.items():
        upload = request.FILES.get(key)
        if upload is None or not isinstance(paths, list):
            raise RequestRejected(400, f"File {key!r} named in map was not sent.")
        for path in paths:
            _place(operations, str(path).split("."), upload)
    return operations


def _place(target, path: list[str], value):
    try:
        for part in path[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = path[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif isinstance(target, dict) and last in target:
            target[last] = value
        else:
            raise KeyError(last)
    except (KeyError, IndexError, ValueError, TypeError):
        raise RequestRejected(400, f"map path {'.'.join(path)!r} does not exist in operations.") from None
