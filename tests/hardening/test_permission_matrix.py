"""The permission matrix: every mutation of the schema, called as anonymous, as another member, as
the owner of its target and as staff, over real HTTP requests.

The cells come from the schema, the rules from permissions_matrix.py: a mutation without a rule
fails its cells and the meta-test, naming it. A refused caller gets a typed error and nothing in
the database changes; an allowed one gets no error at all (each rule's input is minimal but
valid). No answer is a 500 or shows internal text.
"""

import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from config.graphql.schema import schema
from tests.hardening.permissions_matrix import (
    ANONYMOUS,
    MUTATION_RULES,
    PUBLIC_NODE_TYPES,
    PUBLIC_QUERY_FIELDS,
    READ_RULES,
    ROLES,
    File,
    World,
)

MUTATIONS = sorted(schema.graphql_schema.mutation_type.fields)
NODE_TYPES = {name for name, graphql_type in schema.graphql_schema.type_map.items()
              if any(interface.name == "Node" for interface in getattr(graphql_type, "interfaces", ()))}
# What the schema says must be guarded: root query fields but the public ones (and node, guarded
# per type), and node for every type but the public ones; the private fields of shared types
# are the rules' own ("Type.field"), as the schema cannot tell them.
GUARDED_READS = sorted(
    (set(schema.graphql_schema.query_type.fields) - PUBLIC_QUERY_FIELDS - {"node"})
    | {f"node({name})" for name in NODE_TYPES - PUBLIC_NODE_TYPES}
    | {label for label in READ_RULES if "." in label})
PROJECT_APPS = ("accounts", "marketplace", "social", "sellers", "live", "notifications")
# Written by every authenticated request (the token's coarse last-used stamp), whatever it does.
VOLATILE_FIELDS = {"accounts.AuthToken": {"last_used_at"}}
INTERNAL_TEXT = ("Traceback", 'File "', "django.", "psycopg", "sqlite3", "IntegrityError", "ProgrammingError")


@pytest.fixture
def world(db, category, django_capture_on_commit_callbacks):
    return World(django_capture_on_commit_callbacks)


def mutation_document(name: str) -> str:
    """The smallest document calling `name`: its input as the schema types it, and its errors."""
    input_type = schema.graphql_schema.mutation_type.fields[name].args["input"].type
    return f"mutation($input: {input_type}) {{ {name}(input: $input) {{ errors {{ field code message }} }} }}"


def call_mutation(gql, name: str, input: dict, token: str | None):
    """Post the mutation as JSON, or as a multipart request when its input carries files."""
    files = {key: value for key, value in input.items() if isinstance(value, File)}
    operations = {"query": mutation_document(name), "variables": {"input": {
        key: None if key in files else value for key, value in input.items()}}}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if not files:
        return gql.http.post("/graphql/", data=json.dumps(operations), content_type="application/json", **headers)
    parts = {str(index): SimpleUploadedFile(upload.name, upload.content) for index, upload in enumerate(files.values())}
    paths = {str(index): [f"variables.input.{key}"] for index, key in enumerate(files)}
    return gql.http.post("/graphql/", {"operations": json.dumps(operations), "map": json.dumps(paths), **parts},
                         **headers)


def database_state() -> dict:
    """Every row of the project's tables (but the fields every request writes), to compare; plain
    SQL, as the ORM would double the time of a refused cell."""
    state = {}
    with connection.cursor() as cursor:
        for app in PROJECT_APPS:
            for model in apps.get_app_config(app).get_models():
                skipped = VOLATILE_FIELDS.get(model._meta.label, set())
                columns = ", ".join(connection.ops.quote_name(field.column) for field in model._meta.concrete_fields
                                    if field.name not in skipped)
                table, key = connection.ops.quote_name(model._meta.db_table), model._meta.pk.column
                cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {connection.ops.quote_name(key)}")
                state[model._meta.label] = cursor.fetchall()
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def clean_body(response, statuses=(200,)) -> dict:
    """The JSON of an answer that is no server error and shows nothing of the internals."""
    text = response.content.decode()
    assert response.status_code in statuses, (response.status_code, text)
    assert not [marker for marker in INTERNAL_TEXT if marker in text], text
    return json.loads(text)


def test_every_mutation_has_a_rule():
    missing = sorted(set(MUTATIONS) - set(MUTATION_RULES))
    stale = sorted(set(MUTATION_RULES) - set(MUTATIONS))
    assert not missing, f"Mutations without a rule in tests/hardening/permissions_matrix.py: {missing}"
    assert not stale, f"Rules for mutations the schema no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("mutation", MUTATIONS)
def test_mutation_cell(gql, world, mutation, role):
    rule = MUTATION_RULES.get(mutation)
    assert rule is not None, f"{mutation} has no rule in tests/hardening/permissions_matrix.py: say who may call it"
    input = rule.build(world)
    allowed = rule.who.allows(role)
    before = None if allowed else database_state()

    body = clean_body(call_mutation(gql, mutation, input, world.token(role)))

    assert "errors" not in body, body
    errors = body["data"][mutation]["errors"]
    if allowed:
        assert errors == [], f"{mutation} refused {role}, whom its rule allows ({rule.who.value}): {errors}"
        return
    codes = {error["code"] for error in errors}
    expected = {"UNAUTHENTICATED"} if role == ANONYMOUS else rule.refusal
    if expected:
        assert errors and codes <= expected, f"{mutation} as {role}: expected one of {sorted(expected)}, got {errors}"
        assert all(error["message"] for error in errors), errors
    else:
        assert errors == [], f"{mutation} as {role} should have had no effect and no error: {errors}"
    changed = changed_tables(before, database_state())
    assert not changed, f"{mutation} refused {role} but changed {changed}"


def test_every_guarded_read_has_a_rule():
    missing = sorted(set(GUARDED_READS) - set(READ_RULES))
    stale = sorted(set(READ_RULES) - set(GUARDED_READS))
    assert not missing, (f"Query fields or Node types that are neither public nor ruled in "
                         f"tests/hardening/permissions_matrix.py: {missing}")
    assert not stale, f"Read rules for fields or types the schema no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("read", GUARDED_READS)
def test_read_cell(gql, world, read, role):
    rule = READ_RULES.get(read)
    assert rule is not None, f"{read} has no rule in tests/hardening/permissions_matrix.py: public, or who may read it?"
    query = rule.build(world)
    token = world.token(role)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    body = clean_body(gql.http.post("/graphql/", data=json.dumps({"query": query.document,
                                                                  "variables": query.variables}),
                                    content_type="application/json", **headers),
                      statuses=(200, 400))  # 400: a refused non-null field leaves no data at all

    shown = json.dumps(body.get("data"))
    if rule.who.allows(role):
        assert "errors" not in body, f"{read} refused {role}, whom its rule allows ({rule.who.value}): {body}"
        assert query.secret is None or query.secret in shown, f"{read} hid the owner's data from {role}: {body}"
        return
    assert query.secret is None or query.secret not in shown, f"{read} showed the owner's data to {role}: {body}"
    expected = rule.anonymous if role == ANONYMOUS else rule.refusal
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    if expected:
        assert codes and set(codes) <= expected, f"{read} as {role}: expected one of {sorted(expected)}, got {body}"
    else:
        assert not codes, f"{read} as {role} should answer with their own data only, without error: {body}"
