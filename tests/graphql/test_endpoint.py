"""The HTTP endpoint: transport rules, document limits, and errors that never leak.

Every hostile input and its refusal is listed in tests/hardening/test_hostile_documents.py; here
are the rules' semantics (what passes, how limits count, the settings that switch them)."""

import json

import pytest

pytestmark = pytest.mark.django_db

ME = "{ me { username } }"


def codes(body):
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


def test_get_runs_queries(gql):
    assert gql.http.get("/graphql/", {"query": ME}).json() == {"data": {"me": None}}


def test_batches_run_each_operation_up_to_the_limit(gql, settings):
    settings.GRAPHQL_MAX_BATCH = 3
    ok = gql.post([{"query": ME}, {"query": "{ __typename }"}])
    assert ok.status_code == 200
    assert ok.json() == [{"data": {"me": None}}, {"data": {"__typename": "Query"}}]
    assert gql.post([{"query": ME}] * 4).status_code == 400


def test_depth_limit(gql, settings):
    settings.GRAPHQL_MAX_DEPTH = 2
    deep = '{ node(id: "x") { ... on User { id } } me { username } }'
    assert gql.post({"query": deep}).status_code == 200
    nested = '{ a: node(id: "x") { ...F } } fragment F on Node { ... on User { id } }'
    assert gql.post({"query": nested}).status_code == 200
    settings.GRAPHQL_MAX_DEPTH = 1
    response = gql.post({"query": '{ a: node(id: "x") { ...F } } fragment F on Node { ... on User { id } }'})
    assert response.status_code == 400
    assert "nested too deeply (2 levels)" in response.json()["errors"][0]["message"]


def test_alias_limit(gql, settings):
    settings.GRAPHQL_MAX_ALIASES = 5
    query = "{ " + " ".join(f"a{i}: me {{ username }}" for i in range(6)) + " }"
    response = gql.post({"query": query})
    assert response.status_code == 400
    assert "Too many aliases" in response.json()["errors"][0]["message"]


def test_cost_limit_counts_fragments_where_spread(gql, settings):
    settings.GRAPHQL_MAX_COST = 50
    # Each fragment doubles the one below: 2^12 fields from a tiny document.
    fragments = ["fragment F0 on User { username }"] + [
        f"fragment F{i} on User {{ ...F{i - 1} a{i}: displayName ...F{i - 1} }}" for i in range(1, 13)
    ]
    query = "{ me { ...F12 } } " + " ".join(fragments)
    settings.GRAPHQL_MAX_ALIASES = 100
    response = gql.post({"query": query})
    assert response.status_code == 400
    assert "too expensive" in response.json()["errors"][0]["message"]


def test_parser_token_limit(gql, settings):
    settings.GRAPHQL_MAX_TOKENS = 100
    response = gql.post({"query": "{ " + "me { username } " * 100 + "}"})
    assert response.status_code == 400
    assert "token" in response.json()["errors"][0]["message"].lower()


def test_introspection_follows_the_setting(gql, settings):
    settings.GRAPHQL_INTROSPECTION = False
    refused = gql.post({"query": "{ __schema { queryType { name } } }"})
    assert refused.status_code == 400
    assert "introspection is disabled" in refused.json()["errors"][0]["message"]
    assert gql.post({"query": "{ __typename }"}).status_code == 200
    settings.GRAPHQL_INTROSPECTION = True
    allowed = gql.post({"query": "{ __schema { queryType { name } } }"})
    assert allowed.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_field_suggestions_follow_the_setting(gql, settings):
    settings.GRAPHQL_SUGGESTIONS = False
    message = gql.post({"query": "{ me { usernam } }"}).json()["errors"][0]["message"]
    assert message == "Cannot query field 'usernam' on type 'User'."
    settings.GRAPHQL_SUGGESTIONS = True
    assert "Did you mean 'username'?" in gql.post({"query": "{ me { usernam } }"}).json()["errors"][0]["message"]


def test_unexpected_errors_are_masked(gql, monkeypatch, settings):
    settings.DEBUG = False

    def explode(info):
        raise RuntimeError("password=hunter2 at db-primary:5432")

    monkeypatch.setattr("accounts.schema.viewer", explode)
    response = gql.post({"query": ME})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"me": None}
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            "locations": [{"line": 1, "column": 3}],
            "path": ["me"],
        }
    ]
    assert "hunter2" not in response.content.decode()


@pytest.mark.parametrize("global_id", ["garbage", "VXNlcjp4", "", "Tm9wZTox", "VXNlcjotMQ=="])
def test_malformed_or_unknown_ids_never_500(gql, global_id):
    response = gql.post({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": global_id}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["node"] is None
    assert all(code in ("INVALID", None) for code in codes(body)) if "errors" in body else True


def test_multipart_without_files_still_parses(gql):
    response = gql.http.post("/graphql/", {"operations": json.dumps({"query": ME}), "map": "{}"})
    assert response.json() == {"data": {"me": None}}


def test_multipart_map_to_a_missing_path_is_a_400(gql):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = gql.http.post(
        "/graphql/",
        {
            "operations": json.dumps({"query": ME, "variables": {}}),
            "map": json.dumps({"0": ["variables.nope.deeper"]}),
            "0": SimpleUploadedFile("a.txt", b"hi"),
        },
    )
    assert response.status_code == 400
