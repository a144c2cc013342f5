from pathlib import Path

from graphql import print_schema

from config.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code():
    """Clients build against schema.graphql: regenerate it with `make schema` when the API changes."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == print_schema(schema.graphql_schema)
