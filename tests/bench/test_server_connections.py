"""A daphne process on PostgreSQL keeps its database connections bounded however many requests
it serves (the load benchmark found each request leaving one open until PostgreSQL refused new
clients and every request failed with a 500)."""

import json
import urllib.request

import pytest
from django.db import connection

from bench.harness import daphne_command, daphne_environment, database_url_for_server, server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

REQUESTS = 30


def test_requests_do_not_leave_database_connections_open(tmp_path):
    with server(daphne_command(), daphne_environment(database_url_for_server(tmp_path))) as port:
        for _ in range(REQUESTS):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql/",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"query": "{ categories { id } }"}).encode(),
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.load(response)["data"]["categories"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (server_connections,) = cursor.fetchone()
    assert server_connections <= 2
