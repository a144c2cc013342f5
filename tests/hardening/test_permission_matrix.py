"""The permission matrix, generated from the schema: every mutation, every root query field that
is not public, node(id) of every private type and the private fields of shared types, each called
as anonymous, as another member, as the owner of its target and as staff, over real HTTP requests.

The rules are permissions_matrix.py's: a mutation, query field or Node type without one fails
its cells and a meta-test, naming it. A refused caller gets a typed error (or, for calls that
only ever touch the caller's own data, an answer that changes and shows nothing of the owner's)
and nothing in the database changes; an allowed one gets no error at all (each rule's input is
minimal but valid) and sees the owner's data. No answer is a 500 or shows internal text.
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
QUERY_FIELDS = set(schema.graphql_schema.query_type.fields)
MUTATION_CELLS = sorted(set(MUTATIONS) | {label for label in MUTATION_RULES if ":" in label})
NODE_TYPES = {
    name
    for name, graphql_type in schema.graphql_schema.type_map.items()
    if any(interface.name == "Node" for interface in getattr(graphql_type, "interfaces", ()))
}
# What the schema says must be guarded: root query fields but the public ones (and node, guarded
# per type), and node for every type but the public ones; the private fields of shared types
# ("Type.field") and the objects public fields hide ("field:variant") are the rules' own, as the
# schema cannot tell them.
GUARDED_READS = sorted(
    (QUERY_FIELDS - PUBLIC_QUERY_FIELDS - {"node"})
    | {f"node({name})" for name in NODE_TYPES - PUBLIC_NODE_TYPES}
    | {label for label in READ_RULES if "." in label or ":" in label}
)
PROJECT_APPS = ("accounts", "marketplace", "social", "sellers", "live", "notifications")
# Written by every authenticated request (the token's coarse last-used stamp), whatever it does.
VOLATILE_FIELDS = {"accounts.AuthToken": {"last_used_at"}}
INTERNAL_TEXT = ("Traceback", 'File "', "django.", "psycopg", "sqlite3", "IntegrityError", "ProgrammingError")


@pytest.fixture
def world(db, category, django_capture_on_commit_callbacks, settings):
    return World(django_capture_on_commit_callbacks, settings)


def mutation_document(name: str) -> str:
    """The smallest document calling `name`: its input as the schema types it, and its errors."""
    arguments = schema.graphql_schema.mutation_type.fields[name].args
    if "input" not in arguments:  # a call about the caller alone (preparePaymentSheet)
        return f"mutation {{ {name} {{ errors {{ field code message }} }} }}"
    return (
        f"mutation($input: {arguments['input'].type}) {{ {name}(input: $input) {{ errors {{ field code message }} }} }}"
    )


def call_mutation(gql, name: str, input: dict, token: str | None):
    """Post the mutation as JSON, or as a multipart request when its input carries files."""
    files = {key: value for key, value in input.items() if isinstance(value, File)}
    operations = {
        "query": mutation_document(name),
        "variables": {"input": {key: None if key in files else value for key, value in input.items()}},
    }
    if not files:
        return gql.post(operations, token=token)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    parts = {str(index): SimpleUploadedFile(upload.name, upload.content) for index, upload in enumerate(files.values())}
    paths = {str(index): [f"variables.input.{key}"] for index, key in enumerate(files)}
    return gql.http.post(
        "/graphql/", {"operations": json.dumps(operations), "map": json.dumps(paths), **parts}, **headers
    )


def database_state() -> dict:
    """Every row of the project's tables (but the fields every request writes), to compare; each
    table as one JSON array, all in one query (a query per table slowed a refused cell on PostgreSQL)."""
    tables = {}
    on_postgres = connection.vendor == "postgresql"
    json_rows, json_row = ("json_agg", "json_build_array") if on_postgres else ("json_group_array", "json_array")
    value = "{}" if on_postgres else "quote({})"  # SQLite's JSON takes no BLOB: its SQL literal then
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            skipped = VOLATILE_FIELDS.get(model._meta.label, set())
            columns = ", ".join(
                value.format(connection.ops.quote_name(field.column))
                for field in model._meta.concrete_fields
                if field.name not in skipped
            )
            table, key = (connection.ops.quote_name(name) for name in (model._meta.db_table, model._meta.pk.column))
            tables[model._meta.label] = (
                f"(SELECT {json_rows}({json_row}({columns})) FROM (SELECT * FROM {table} ORDER BY {key}) AS {table})"
            )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(tables.values())}")
        return dict(zip(tables, cursor.fetchone(), strict=False))


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
    stale = sorted(label for label in MUTATION_RULES if label.split(":")[0] not in MUTATIONS)
    assert not missing, f"Mutations without a rule in tests/hardening/permissions_matrix.py: {missing}"
    assert not stale, f"Rules for mutations the schema no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("cell", MUTATION_CELLS)
def test_mutation_cell(gql, world, cell, role):
    rule = MUTATION_RULES.get(cell)
    assert rule is not None, f"{cell} has no rule in tests/hardening/permissions_matrix.py: say who may call it"
    mutation = cell.split(":")[0]
    input = rule.build(world)
    token = world.token(role)
    allowed = rule.who.allows(role)
    before = None if allowed else database_state()

    body = clean_body(call_mutation(gql, mutation, input, token))

    assert "errors" not in body, body
    errors = body["data"][mutation]["errors"]
    if allowed:
        assert errors == [], f"{cell} refused {role}, whom its rule allows ({rule.who.value}): {errors}"
        return
    codes = {error["code"] for error in errors}
    expected = {"UNAUTHENTICATED"} if role == ANONYMOUS else rule.refusal
    if expected:
        assert errors and codes <= expected, f"{cell} as {role}: expected one of {sorted(expected)}, got {errors}"
        assert all(error["message"] for error in errors), errors
    else:
        assert errors == [], f"{cell} as {role} should have had no effect and no error: {errors}"
    changed = changed_tables(before, database_state())
    assert not changed, f"{cell} refused {role} but changed {changed}"


def test_every_guarded_read_has_a_rule():
    missing = sorted(set(GUARDED_READS) - set(READ_RULES))
    stale = sorted(
        label
        for label in READ_RULES
        if label not in GUARDED_READS or ":" in label and label.split(":")[0] not in QUERY_FIELDS
    )
    assert not missing, (
        f"Query fields or Node types that are neither public nor ruled in "
        f"tests/hardening/permissions_matrix.py: {missing}"
    )
    assert not stale, f"Read rules for fields or types the schema no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("read", GUARDED_READS)
def test_read_cell(gql, world, read, role):
    rule = READ_RULES.get(read)
    assert rule is not None, f"{read} has no rule in tests/hardening/permissions_matrix.py: public, or who may read it?"
    query = rule.build(world)

    response = gql.post({"query": query.document, "variables": query.variables}, token=world.token(role))
    # A refused non-null field leaves `data` null: still an executed operation, so 200 (GraphQL over HTTP).
    body = clean_body(response)

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
