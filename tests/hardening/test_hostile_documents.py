"""Every hostile GraphQL document and HTTP request tried against /graphql/, in one list.

Each is refused with the view's status and a typed error (`extensions.code`), never a 500 nor
internal text nor a "did you mean" suggestion, changes nothing, and is refused quickly: the
bound is generous and only catches work that grows faster than the input. Production mode
throughout: DEBUG, introspection and suggestions off.

The limits' own semantics (how depth counts through fragments, cost through connections, the
introspection and suggestion switches) are in tests/graphql/test_endpoint.py.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT

from marketplace.models import Category, Listing
from tests.hardening.clean import assert_clean
from tests.helpers import gid

pytestmark = pytest.mark.django_db

# Seconds. Refusals take milliseconds to a few hundred (the largest documents the token limit lets
# through) on a busy machine; work growing faster than the input would take far longer.
REFUSED_WITHIN = 2.0
ME = "{ me { username } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }"
PRICE = """mutation($i: CreateListingInput!) {
  createListing(input: $i) { listing { id } errors { field code message } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
FEED = "query($n: Int) { feed(first: $n) { edges { cursor } } }"
NESTING = 10_000


def post(body, content_type="application/json", **extra):
    """A POST whose body is encoded now, so that only the server's handling is timed."""
    data = json.dumps(body) if content_type == "application/json" and not isinstance(body, (str, bytes)) else body
    return lambda http, headers: http.post("/graphql/", data, content_type=content_type, **headers, **extra)


def get(params):
    url = f"/graphql/?{urlencode(params)}"
    return lambda http, headers: http.get(url, **headers)


def login(**values):
    return post({"query": LOGIN, "variables": {"i": {"username": "ava", "password": "x" * 12} | values}})


def new_listing(price):
    category = gid(Category.objects.get(path="women/dresses"))
    return post({"query": PRICE, "variables": {"i": {"title": "Coat", "categoryId": category, "price": price}}})


def fragment_bomb(levels):
    """Each fragment spreads the one below twice: 2^levels fields from a few hundred bytes."""
    fragments = ["fragment F0 on User { username }"] + [
        f"fragment F{i} on User {{ ...F{i - 1} a{i}: displayName ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return f"{{ me {{ ...F{levels} }} }} {' '.join(fragments)}"


def aliases(count):
    return "{ " + " ".join(f"a{i}: me {{ username }}" for i in range(count)) + " }"


def operations(count):
    return " ".join(f"query Q{i} {{ me {{ username }} }}" for i in range(count))


@dataclass(frozen=True)
class Hostile:
    name: str
    request: Callable[[], Callable]  # builds the request (untimed); the result sends it
    status: int
    code: str
    message: str  # part of the first error's message
    settings: dict = field(default_factory=dict)
    bearer: str | None = None  # an Authorization header instead of the member's

    def __str__(self):
        return self.name


HOSTILE = [
    # Nesting: the parser gives up past its depth; the JSON decoder's recursion is caught too.
    Hostile(
        "selection nested 10,000 levels",
        lambda: post({"query": "{ me " + "{ a " * NESTING + "}" * NESTING + "}"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "nested too deeply",
    ),
    Hostile(
        "inline fragments nested 10,000 levels",
        lambda: post({"query": "{ me " + "{ ... on User " * NESTING + "}" * NESTING + "}"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "nested too deeply",
    ),
    Hostile(
        "list literal nested 10,000 levels",
        lambda: post({"query": "{ node(id: " + "[" * NESTING + "]" * NESTING + ") { id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "nested too deeply",
    ),
    Hostile(
        "object literal nested 10,000 levels",
        lambda: post({"query": "{ node(id: " + "{a: " * NESTING + "1" + "}" * NESTING + ") { id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "nested too deeply",
    ),
    Hostile(
        "list variable nested 10,000 levels",
        lambda: post('{{"query": "{}", "variables": {{"id": {}}}}}'.format(NODE, "[" * NESTING + "]" * NESTING)),
        400,
        "BAD_REQUEST",
        "nested too deeply",
    ),
    Hostile(
        "object variable nested 10,000 levels",
        lambda: post(
            '{{"query": "{}", "variables": {{"id": {}}}}}'.format(NODE, '{"a": ' * NESTING + "1" + "}" * NESTING)
        ),
        400,
        "BAD_REQUEST",
        "nested too deeply",
    ),
    Hostile(
        "list variable nested 500 levels where an ID goes",
        lambda: post('{{"query": "{}", "variables": {{"id": {}}}}}'.format(NODE, "[" * 500 + "]" * 500)),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "ID cannot represent",
    ),
    Hostile(
        "body nested 100,000 levels",
        lambda: post("[" * 100_000 + "]" * 100_000),
        400,
        "BAD_REQUEST",
        "nested too deeply",
    ),
    Hostile(
        "real fields nested past GRAPHQL_MAX_DEPTH (12)",
        lambda: post({"query": "{ me { " + "followers(first: 1) { edges { node { " * 4 + "id" + " } } }" * 4 + " } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "nested too deeply (14 levels)",
    ),
    # Fragments.
    Hostile(
        "fragment cycle",
        lambda: post({"query": "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Cannot spread fragment",
    ),
    Hostile(
        "fragment spreading itself",
        lambda: post({"query": "{ me { ...A } } fragment A on User { ...A }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Cannot spread fragment 'A' within itself",
    ),
    Hostile(
        "unknown fragment",
        lambda: post({"query": "{ me { ...Nope } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Unknown fragment 'Nope'",
    ),
    Hostile(
        "fragment bomb of 2^20 fields",
        lambda: post({"query": fragment_bomb(20)}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "too expensive",
    ),
    # Width: aliases, directives, operations, tokens.
    Hostile(
        "5,000 aliases of one field",
        lambda: post({"query": aliases(5000)}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "more than 5000 tokens",
    ),
    Hostile(
        "800 aliases of one field (within the token limit)",
        lambda: post({"query": aliases(800)}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Too many aliases (800)",
    ),
    Hostile(
        "a directive repeated 5,000 times",
        lambda: post({"query": "{ me " + "@skip(if: false) " * 5000 + "{ id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "more than 5000 tokens",
    ),
    Hostile(
        "a directive repeated 700 times",
        lambda: post({"query": "{ me " + "@skip(if: false) " * 700 + "{ id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "can only be used once",
    ),
    Hostile(
        "600 operations without operationName",
        lambda: post({"query": operations(600)}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Name the operation",
    ),
    Hostile(
        "operationName naming no operation",
        lambda: post({"query": operations(3), "operationName": "Q9"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Name the operation",
    ),
    Hostile("1,000 operations in a batch", lambda: post([{"query": ME}] * 1000), 400, "BAD_REQUEST", "A batch holds"),
    Hostile("an empty batch", lambda: post([]), 400, "BAD_REQUEST", "A batch holds"),
    # Size.
    Hostile(
        "a 5 MB string variable",
        lambda: post({"query": LOGIN, "variables": {"i": {"username": "x" * 5_000_000}}}),
        413,
        "PAYLOAD_TOO_LARGE",
        "exceeds 262144 bytes",
    ),
    Hostile(
        "a 1 MB string literal",
        lambda: post({"query": '{ node(id: "%s") { id } }' % ("x" * 1_000_000)}),
        413,
        "PAYLOAD_TOO_LARGE",
        "exceeds 262144 bytes",
    ),
    Hostile(
        "a body over GRAPHQL_MAX_BODY_BYTES",
        lambda: post({"query": ME, "variables": {"pad": "x" * 2000}}),
        413,
        "PAYLOAD_TOO_LARGE",
        "exceeds 1000 bytes",
        settings={"GRAPHQL_MAX_BODY_BYTES": 1000},
    ),
    Hostile(
        "a multipart body over GRAPHQL_MAX_UPLOAD_BYTES",
        lambda: post(
            {"operations": json.dumps({"query": ME}), "map": "{}", "0": SimpleUploadedFile("a", b"x" * 5000)},
            content_type=MULTIPART_CONTENT,
        ),
        413,
        "PAYLOAD_TOO_LARGE",
        "exceeds 1000 bytes",
        settings={"GRAPHQL_MAX_UPLOAD_BYTES": 1000},
    ),
    Hostile(
        "a Content-Length that is not a number",
        lambda: post({"query": ME}, CONTENT_LENGTH="lots"),
        400,
        "BAD_REQUEST",
        "Invalid Content-Length",
    ),
    Hostile(
        "a GET with a 2 MB query string",
        lambda: get({"query": ME + " " * 2_000_000}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "more than 262144 code points",
    ),
    # Transport: methods and content types.
    Hostile(
        "a mutation sent with GET",
        lambda: get({"query": "mutation { logout { revokedCount } }"}),
        405,
        "METHOD_NOT_ALLOWED",
        "Only queries may be sent with GET",
    ),
    Hostile(
        "a mutation picked by operationName in a GET",
        lambda: get({"query": "query Q { me { id } } mutation M { logout { revokedCount } }", "operationName": "M"}),
        405,
        "METHOD_NOT_ALLOWED",
        "Only queries may be sent with GET",
    ),
    Hostile(
        "GET variables that are not JSON",
        lambda: get({"query": NODE, "variables": "{id:"}),
        400,
        "BAD_REQUEST",
        "variables is not valid JSON",
    ),
    Hostile(
        "a form-encoded POST",
        lambda: post(f"query={ME}", content_type="application/x-www-form-urlencoded"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send application/json",
    ),
    Hostile(
        "a text/plain POST (no CORS preflight)",
        lambda: post(json.dumps({"query": ME}), content_type="text/plain"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send application/json",
    ),
    Hostile(
        "an application/graphql POST",
        lambda: post(ME, content_type="application/graphql"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send application/json",
    ),
    Hostile(
        "a POST without a content type",
        lambda: post(json.dumps({"query": ME}), content_type=""),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send application/json",
    ),
    # Production mode: no schema discovery.
    Hostile(
        "__schema",
        lambda: post({"query": "{ __schema { types { name fields { name } } } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "introspection is disabled",
    ),
    Hostile(
        "__type",
        lambda: post({"query": '{ __type(name: "User") { fields { name } } }'}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "introspection is disabled",
    ),
    Hostile(
        "__schema inside a fragment",
        lambda: post({"query": "{ ...F } fragment F on Query { __schema { types { name } } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "introspection is disabled",
    ),
    Hostile(
        "a misspelt field (no suggestion)",
        lambda: post({"query": "{ me { usernam } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Cannot query field 'usernam' on type 'User'.",
    ),
    Hostile(
        "a misspelt argument (no suggestion)",
        lambda: post({"query": "{ feed(frist: 1) { edges { cursor } } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Unknown argument 'frist'",
    ),
    Hostile(
        "a misspelt type (no suggestion)",
        lambda: post({"query": "query($i: LoginInpt!) { me { id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Unknown type 'LoginInpt'",
    ),
    # Encoding: invalid UTF-8, NUL, lone surrogates.
    Hostile("invalid UTF-8", lambda: post(b"\xff\xfe{}"), 400, "BAD_REQUEST", "not valid JSON"),
    Hostile(
        "a NUL byte in the document",
        lambda: post({"query": "{ me\x00 { id } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Syntax Error",
    ),
    Hostile(
        "a NUL escape in a string literal",
        lambda: post(
            {"query": 'mutation { login(input: {username: "a\\u0000", password: "xxxxxxxxxxxx"}) { token } }'}
        ),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "NUL characters",
    ),
    Hostile("a NUL in a string variable", lambda: login(username="ava\x00"), 400, "BAD_USER_INPUT", "NUL characters"),
    Hostile(
        "a NUL deep in a variable",
        lambda: post(
            {"query": PRICE, "variables": {"i": {"title": "Coat", "categoryId": "x", "price": "1", "brand": "\x00"}}}
        ),
        400,
        "BAD_USER_INPUT",
        "NUL characters",
    ),
    Hostile(
        "a lone surrogate in a string variable",
        lambda: post(
            f'{{"query": "{LOGIN}", "variables": {{"i": {{"username": "\\ud800", "password": "xxxxxxxxxxxx"}}}}}}'
        ),
        400,
        "BAD_USER_INPUT",
        "lone surrogates",
    ),
    Hostile(
        "a lone surrogate escape in a string literal",
        lambda: post({"query": '{ node(id: "\\ud800") { id } }'}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Unicode",
    ),
    # JSON of the wrong shape.
    Hostile("JSON that is not JSON", lambda: post("{not json"), 400, "BAD_REQUEST", "not valid JSON"),
    Hostile("a JSON string", lambda: post('"just a string"'), 400, "BAD_REQUEST", "must be a JSON object"),
    Hostile("a JSON number", lambda: post("42"), 400, "BAD_REQUEST", "must be a JSON object"),
    Hostile("JSON null", lambda: post("null"), 400, "BAD_REQUEST", "must be a JSON object"),
    Hostile(
        "a query that is a number", lambda: post({"query": 42}), 400, "GRAPHQL_VALIDATION_FAILED", "non-empty string"
    ),
    Hostile(
        "a query that is a list", lambda: post({"query": [ME]}), 400, "GRAPHQL_VALIDATION_FAILED", "non-empty string"
    ),
    Hostile("an empty query", lambda: post({"query": " "}), 400, "GRAPHQL_VALIDATION_FAILED", "non-empty string"),
    Hostile(
        "an operationName that is an object",
        lambda: post({"query": ME, "operationName": {"a": 1}}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "operationName must be a string",
    ),
    Hostile(
        "variables that are a list",
        lambda: post({"query": ME, "variables": [1]}),
        400,
        "BAD_REQUEST",
        "variables must be a JSON object",
    ),
    Hostile(
        "variables that are a string in a POST",
        lambda: post({"query": ME, "variables": "{}"}),
        400,
        "BAD_REQUEST",
        "variables must be a JSON object",
    ),
    Hostile(
        "a syntax error", lambda: post({"query": "{ me { username "}), 400, "GRAPHQL_VALIDATION_FAILED", "Syntax Error"
    ),
    # Values of the wrong type or range.
    Hostile(
        "a list where a string goes",
        lambda: login(username=["ava"]),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "String cannot represent",
    ),
    Hostile(
        "null for a required field",
        lambda: login(password=None),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Expected non-nullable type",
    ),
    Hostile(
        "an unknown input field",
        lambda: login(isStaff=True),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "not defined by type 'LoginInput'",
    ),
    Hostile(
        "an integer literal beyond 32 bits",
        lambda: post({"query": "{ feed(first: 99999999999) { edges { cursor } } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "non 32-bit signed integer",
    ),
    Hostile(
        "an integer variable beyond 32 bits",
        lambda: post({"query": FEED, "variables": {"n": 2**40}}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "non 32-bit signed integer",
    ),
    Hostile(
        "an integer variable beyond 64 bits",
        lambda: post({"query": FEED, "variables": {"n": 2**70}}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "non 32-bit signed integer",
    ),
    Hostile(
        "an integer variable of 1e400 (infinity)",
        lambda: post(f'{{"query": "{FEED}", "variables": {{"n": 1e400}}}}'),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Int cannot represent",
    ),
    Hostile(
        "a bare NaN in the JSON",
        lambda: post(f'{{"query": "{FEED}", "variables": {{"n": NaN}}}}'),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Int cannot represent",
    ),
    Hostile(
        "an explicit null for an argument with a default (found by the fuzzer)",
        lambda: post({"query": "{ sellerResults(days: null) { days } }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Expected value of type 'Int!', found null",
    ),
    Hostile(
        "a page size beyond 100",
        lambda: post({"query": FEED, "variables": {"n": 101}}),
        200,
        "INVALID",
        "first must be between 1 and 100",
    ),
    Hostile("a NaN price", lambda: new_listing("NaN"), 200, "INVALID_PRICE", "Enter a price above 0"),
    Hostile("an infinite price", lambda: new_listing("Infinity"), 200, "INVALID_PRICE", "Enter a price above 0"),
    Hostile("a price of 1e999", lambda: new_listing("1e999"), 200, "INVALID_PRICE", "Enter a price above 0"),
    # Credentials.
    Hostile(
        "a bearer token that is garbage",
        lambda: post({"query": ME}),
        401,
        "UNAUTHENTICATED",
        "log in again",
        bearer="Bearer garbage",
    ),
    Hostile(
        "a 100 kB Authorization header",
        lambda: post({"query": ME}),
        401,
        "UNAUTHENTICATED",
        "log in again",
        bearer="Bearer " + "x" * 100_000,
    ),
    Hostile(
        "Basic credentials",
        lambda: post({"query": ME}),
        401,
        "UNAUTHENTICATED",
        "log in again",
        bearer="Basic YXZhOnBhc3N3b3Jk",
    ),
]


@pytest.fixture
def member(make_user, settings, gql, category):
    """Production mode, a member whose token every hostile request carries, and a warm endpoint
    (the first request of a process builds the schema, which is not what is timed)."""
    settings.DEBUG = settings.GRAPHQL_INTROSPECTION = settings.GRAPHQL_SUGGESTIONS = False
    user, token = make_user("ava")
    assert gql(ME, token=token) == {"data": {"me": {"username": "ava"}}}
    return token


@pytest.mark.parametrize("hostile", HOSTILE, ids=str)
def test_hostile_request_is_refused_cleanly_and_quickly(hostile, member, gql, settings):
    for name, value in hostile.settings.items():
        setattr(settings, name, value)
    send = hostile.request()
    headers = {"HTTP_AUTHORIZATION": hostile.bearer or f"Bearer {member}"}
    before = _counts()

    started = time.perf_counter()
    response = send(gql.http, headers)
    elapsed = time.perf_counter() - started

    body = assert_clean(response.status_code, response.content)
    assert response.status_code == hostile.status, body
    error = _first_error(body)
    assert error["extensions"]["code"] == hostile.code, body
    assert hostile.message in error["message"], body
    assert "Did you mean" not in response.content.decode()
    assert elapsed < REFUSED_WITHIN, f"{hostile.name} took {elapsed:.2f} s"
    # Nothing changed: no member nor listing was added, the member's token still works.
    assert _counts() == before
    assert gql(ME, token=member) == {"data": {"me": {"username": "ava"}}}


def _counts():
    return get_user_model().objects.count(), Listing.objects.count()


def _first_error(body):
    """The first top-level error, of a batch's first entry, or of a mutation payload's `errors`."""
    entry = body[0] if isinstance(body, list) else body
    if entry.get("errors"):
        return entry["errors"][0]
    payload_error = next(iter(entry["data"].values()))["errors"][0]
    return {"message": payload_error["message"], "extensions": {"code": payload_error["code"]}}
