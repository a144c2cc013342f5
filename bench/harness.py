"""What the benchmarks that drive real server processes share: members with bearer tokens made in
bulk, a daphne process on the benchmark's database, loopback ports.

Every process started here is stopped (its whole process group) when its `server` block ends.
"""

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import AuthToken, User
from accounts.tokens import hash_token, new_raw_token
from marketplace import services as marketplace_services
from tests.processes import database_url, free_port

PROJECT = Path(__file__).resolve().parents[1]
STARTUP_DEADLINE = 60.0  # seconds for a server to listen
LOG_TAIL = 20_000  # characters of a failed server's log shown


def members_with_tokens(prefix: str, count: int) -> tuple[list[User], list[str]]:
    """`count` members named prefix0, prefix1, … with a bearer token each, bulk-made: the password
    hashers would take minutes."""
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{number}", email=f"{prefix}{number}@bench.test", password="!")
            for number in range(count)
        ]
    )
    tokens = [new_raw_token() for _ in users]
    expires = timezone.now() + settings.AUTH_TOKEN_LIFETIME
    AuthToken.objects.bulk_create(
        [
            AuthToken(user=user, key_hash=hash_token(token), expires_at=expires)
            for user, token in zip(users, tokens, strict=False)
        ]
    )
    return users, tokens


class Rejected(Exception):
    """An answer a benchmark counts as an error; its text says why."""


async def post_graphql(client: httpx.AsyncClient, token: str, query: str, variables: dict | None = None) -> dict:
    """POST a GraphQL request to the client's server as the token's member; its body, unless the
    answer is not a 200 or has top-level errors (Rejected)."""
    answer = await client.post(
        "/graphql/", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code != 200:
        raise Rejected(f"HTTP {answer.status_code}")
    body = answer.json()
    if body.get("errors"):
        raise Rejected(f"GraphQL error: {body['errors'][0].get('message', '')}"[:120])
    return body


def give_default_addresses(users: list[User]) -> None:
    """A default shipping address each, so that they can buy and bid."""
    for user in users:
        marketplace_services.add_shipping_address(
            user=user,
            recipient_name=user.username,
            line1="1 Bench St",
            city="Portland",
            region="OR",
            postal_code="97201",
            country="US",
        )


@contextmanager
def server(command: list[str], environment: dict):
    """Run `command`, which listens on the port put in place of "{port}" in its arguments; yield the port."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            cwd=PROJECT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_port(port, process, log)
            yield port
        except BaseException:
            log.seek(0)
            print(f"The server's log:\n{log.read().decode(errors='replace')[-LOG_TAIL:]}", file=sys.stderr)
            raise
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def daphne_command() -> list[str]:
    # A listen backlog for a thousand clients connecting at once (Twisted's default is 50); no
    # access log (-v 0: a line per request and per WebSocket), errors still logged.
    endpoint = "tcp:port={port}:interface=127.0.0.1:backlog=1024"
    return [str(Path(sys.executable).parent / "daphne"), "-v", "0", "-e", endpoint, "config.asgi:application"]


def daphne_environment(database_url: str, **overrides: str) -> dict:
    """The environment of a daphne process serving the benchmark's database and the channel layer
    of this one (in-memory, or Redis with REDIS_URL), quiet, its mutation rate limit out of the way.
    No Celery worker runs: tasks (payment captures, notifications) run eagerly in the requests, as
    in the embedded runtime, and nothing is left behind in a broker."""
    return (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "MUTATION_RATE_LIMIT": "1000000/m",
            "LOG_LEVEL": "WARNING",
        }
        | overrides
    )


def database_url_for_server(scratch: Path) -> str:
    """The benchmark's database as a server process can open it: on SQLite, whose test database
    lives in memory, a file copy in `scratch` (what the server writes stays there)."""
    if connection.vendor == "sqlite":
        path = scratch / "bench.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{path}"
    return database_url()


def raise_open_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))  # children inherit it


def _wait_for_port(port: int, process, log) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited: {log.read().decode(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)
