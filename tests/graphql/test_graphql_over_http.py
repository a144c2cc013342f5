"""GraphQL over HTTP (the graphql-over-http spec's current draft): the response media type the
client's Accept asks for, and each error class's status under each media type, over the whole
Django stack as a client sends them."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from config.graphql.views import negotiate

pytestmark = pytest.mark.django_db

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# What a client sends as Accept -> the media type it is answered in.
ACCEPTS = {
    GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON,
    JSON: JSON,
    None: GRAPHQL_RESPONSE_JSON,  # no Accept at all: the spec's default since 2025-01-01
    "*/*": JSON,  # curl, fetch and most HTTP libraries: the legacy type
    "application/graphql-response+json, application/json;q=0.9": GRAPHQL_RESPONSE_JSON,  # Apollo Client 3.8+
    "application/json, multipart/mixed": JSON,  # GraphiQL's fetcher
}

ME = "{ me { username } }"
VARIABLE_QUERY = "query Feed($first: Int) { feed(first: $first) { edges { cursor } } }"

# Error class -> (request body as sent, status under application/json, under graphql-response+json,
# the first error's code). A string body is sent as is.
ERROR_CLASSES = {
    "JSON parsing failure": ('{"query":', 400, 400, "BAD_REQUEST"),
    "invalid parameters: no query": ({"qeury": "{ __typename }"}, 400, 400, "GRAPHQL_VALIDATION_FAILED"),
    "invalid parameters: variables not a map": ({"query": VARIABLE_QUERY, "variables": [7]}, 400, 400, "BAD_REQUEST"),
    "invalid parameters: operationName not a string": (
        {"query": ME, "operationName": 3},
        400,
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "document parsing failure": ({"query": "{"}, 200, 400, "GRAPHQL_VALIDATION_FAILED"),
    "document validation failure": ({"query": "{ me { usernam } }"}, 200, 400, "GRAPHQL_VALIDATION_FAILED"),
    "a document over the server's limits": (
        {"query": "{ " + "me { username } " * 3000 + "}"},
        200,
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "operation cannot be determined": (
        {"query": "query A { me { id } } query B { me { id } }"},
        200,
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "variable coercion failure": (
        {"query": VARIABLE_QUERY, "variables": {"first": "ten"}},
        200,
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "variable text no column can store": (
        {"query": VARIABLE_QUERY, "variables": {"x": "a\x00b"}},
        200,
        400,
        "BAD_USER_INPUT",
    ),
}


def post(body, accept=None, content_type=JSON, **extra):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post("/graphql/", data, content_type=content_type, **headers, **extra)


def get(params, accept=None):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    return Client().get("/graphql/", params, **headers)


def answered_in(response, media_type):
    assert response["Content-Type"] == f"{media_type}; charset=utf-8"
    assert "Accept" in response["Vary"]
    return json.loads(response.content)


@pytest.mark.parametrize("accept", list(ACCEPTS), ids=str)
def test_a_successful_query_is_200_in_the_media_type_asked_for(accept):
    response = post({"query": ME}, accept)
    assert response.status_code == 200
    assert answered_in(response, ACCEPTS[accept]) == {"data": {"me": None}}


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
@pytest.mark.parametrize("error_class", list(ERROR_CLASSES))
def test_each_error_class_has_the_spec_status_under_each_media_type(error_class, media_type):
    body, json_status, graphql_response_status, code = ERROR_CLASSES[error_class]
    response = post(body, media_type)
    assert response.status_code == (json_status if media_type == JSON else graphql_response_status)
    answer = answered_in(response, media_type)
    assert "data" not in answer, answer  # a request error: nothing was executed
    assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
def test_field_errors_during_execution_are_200_under_both(media_type):
    # A non-null root field refused to an anonymous client nulls the whole `data`: still executed.
    response = post({"query": "{ greetingsEnabled }"}, media_type)
    assert response.status_code == 200
    answer = answered_in(response, media_type)
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A nullable field's error leaves partial data.
    partial = post({"query": "{ autoGreeting { __typename } categories { id } }"}, media_type)
    assert partial.status_code == 200
    answer = answered_in(partial, media_type)
    assert answer["data"]["autoGreeting"] is None and isinstance(answer["data"]["categories"], list)
    assert answer["errors"][0]["path"] == ["autoGreeting"]


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
def test_get_runs_queries_and_answers_405_to_mutations(media_type):
    query = get({"query": ME}, media_type)
    assert query.status_code == 200
    assert answered_in(query, media_type) == {"data": {"me": None}}
    mutation = get({"query": "mutation { logout { errors { code } } }"}, media_type)
    assert mutation.status_code == 405
    assert mutation["Allow"] == "POST"
    assert answered_in(mutation, media_type)["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    refused = get({"query": "{"}, media_type)
    assert refused.status_code == (200 if media_type == JSON else 400)


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",  # a browser page without DEBUG (no GraphiQL)
        "application/xml",
        "application/graphql-response+json;q=0, application/json;q=0",
        "application/json; charset=iso-8859-1",
        "text/*",
    ],
)
def test_an_accept_allowing_neither_media_type_is_406(accept):
    for response in (post({"query": ME}, accept), get({"query": ME}, accept)):
        assert response.status_code == 406
        answer = answered_in(response, JSON)
        assert answer["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
        assert GRAPHQL_RESPONSE_JSON in answer["errors"][0]["message"]


def test_406_is_answered_before_the_request_is_processed(gql, make_user):
    _user, token = make_user("ava")
    response = post(
        {"query": "mutation { logout { errors { code } } }"}, "text/plain", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 406
    assert gql("{ me { username } }", token=token) == {"data": {"me": {"username": "ava"}}}  # not logged out


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
def test_transport_refusals_keep_their_status_under_both(media_type, settings):
    unauthenticated = post({"query": ME}, media_type, HTTP_AUTHORIZATION="Bearer nope")
    assert unauthenticated.status_code == 401
    assert answered_in(unauthenticated, media_type)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong_type = post(json.dumps({"query": ME}), media_type, content_type="text/plain")
    assert wrong_type.status_code == 415
    settings.GRAPHQL_MAX_BODY_BYTES = 100
    too_big = post({"query": ME, "variables": {"pad": "x" * 200}}, media_type)
    assert too_big.status_code == 413
    assert answered_in(too_big, media_type)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
def test_multipart_uploads_are_answered_in_the_media_type_asked_for(media_type):
    response = Client().post(
        "/graphql/",
        {
            "operations": json.dumps(
                {
                    "query": 'mutation($file: Upload!) { uploadListingImage(input: {listingId: "x", '
                    "image: $file}) { errors { code } } }",
                    "variables": {"file": None},
                }
            ),
            "map": json.dumps({"0": ["variables.file"]}),
            "0": SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg"),
        },
        HTTP_ACCEPT=media_type,
    )
    assert response.status_code == 200
    answer = answered_in(response, media_type)
    assert answer["data"]["uploadListingImage"]["errors"], answer


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE_JSON])
def test_a_batch_answers_each_operation_in_one_200(media_type):
    response = post([{"query": ME}, {"query": "{"}], media_type)
    assert response.status_code == 200
    first, second = answered_in(response, media_type)
    assert first == {"data": {"me": None}}
    assert "data" not in second and second["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, GRAPHQL_RESPONSE_JSON),
        ("", GRAPHQL_RESPONSE_JSON),
        ("application/json", JSON),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", JSON),  # equal q: the order given
        ("application/json;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.2, */*;q=0.8", JSON),
        ("*/*, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),  # equal q: named before wildcard
        ("application/*", JSON),
        ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", JSON),  # a browser
        ('application/graphql-response+json; charset="UTF-8"', GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json; charset=latin1, application/json;q=0.1", JSON),
        ("application/json;q=nonsense", None),
        ("image/png", None),
    ],
)
def test_negotiation(accept, chosen):
    assert negotiate(accept) == chosen
