"""The HTTP side of /graphql/: JSON (single or batched) and multipart uploads, bearer auth.

Authentication is by `Authorization: Bearer <token>` only, never the session cookie, which is
why the endpoint needs no CSRF token: a foreign page cannot make a browser attach the header.
"""

import json
import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from accounts.selectors import user_for_bearer_header
from config.graphql.execution import (
    DATABASE_UNAVAILABLE,
    SERVICE_UNAVAILABLE,
    OperationRejected,
    format_error,
    is_query,
    prepare,
    run,
)
from config.graphql.schema import schema

logger = logging.getLogger("closetline.graphql")


class RequestRejected(Exception):
    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST"):
        self.status, self.message, self.code = status, message, code
        super().__init__(message)

    def response(self) -> JsonResponse:
        body = {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}
        return JsonResponse(body, status=self.status)


@method_decorator(csrf_exempt, name="dispatch")
class GraphQLEndpoint(View):
    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest):
        if settings.DEBUG and GraphQLView.request_wants_html(request):
            return render(request, "graphiql.html")
        return self._respond(request, dict(request.GET.items()), from_get=True)

    def post(self, request: HttpRequest):
        try:
            payload = self._parse_body(request)
        except RequestRejected as rejected:
            return rejected.response()
        return self._respond(request, payload, from_get=False)

    def _respond(self, request, payload, from_get: bool):
        try:
            request.user = self._authenticate(request)
            if isinstance(payload, list):
                if not 0 < len(payload) <= settings.GRAPHQL_MAX_BATCH:
                    raise RequestRejected(400, f"A batch holds 1 to {settings.GRAPHQL_MAX_BATCH} operations.")
                results = [self._execute(request, entry, from_get)[0] for entry in payload]
                return JsonResponse(results, safe=False)
            body, status = self._execute(request, payload, from_get)
            return JsonResponse(body, status=status)
        except RequestRejected as rejected:
            return rejected.response()
        except DATABASE_UNAVAILABLE as error:  # outside any resolver: looking up the bearer token
            logger.warning("Database unavailable: %s", error)
            return JsonResponse({"errors": [SERVICE_UNAVAILABLE]}, status=503)

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
        limit = settings.GRAPHQL_MAX_UPLOAD_BYTES if content_type == "multipart/form-data" \
            else settings.GRAPHQL_MAX_BODY_BYTES
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
        raise RequestRejected(415, "Send application/json, or multipart/form-data for uploads.",
                              "UNSUPPORTED_MEDIA_TYPE")

    @staticmethod
    def _execute(request, entry, from_get: bool) -> tuple[dict, int]:
        if not isinstance(entry, dict):
            return {"errors": [{"message": "Each operation must be a JSON object.",
                                "extensions": {"code": "BAD_REQUEST"}}]}, 400
        variables = entry.get("variables")
        if isinstance(variables, str) and from_get:
            variables = _json(variables.encode(), "variables is not valid JSON.")
        if variables is not None and not isinstance(variables, dict):
            return {"errors": [{"message": "variables must be a JSON object.",
                                "extensions": {"code": "BAD_REQUEST"}}]}, 400
        operation_name = entry.get("operationName") or None
        try:
            document, operation_type = prepare(schema, entry.get("query"), operation_name)
        except OperationRejected as rejected:
            return {"errors": [format_error(error) for error in rejected.errors]}, 400
        if from_get and not is_query(operation_type):
            raise RequestRejected(405, "Only queries may be sent with GET; use POST.", "METHOD_NOT_ALLOWED")
        result = run(schema, document, request, variables, operation_name)
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(error) for error in result.errors]
        # No data at all means the request itself was wrong (e.g. variables of the wrong type).
        return body, 200 if result.data is not None else 400


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

