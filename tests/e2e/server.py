"""A real daphne process serving config.asgi on 127.0.0.1, for tests that need a real server
(a real client library, raw sockets, server memory).

It runs on the test's data: on PostgreSQL the test database itself (the test is transactional, so
what it made is committed), on SQLite a file copy of the test database taken when the server
starts (the test database lives in memory), so a test makes its data through the services first
and then acts through the server. With REDIS_URL the server uses the Redis channel layer and
cache like production; Celery runs eagerly in the server (no worker is started here).
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing, contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[2]
START_SECONDS = 30
# Tests act as many users from one address, faster than any person.
UNLIMITED = {"MUTATION_RATE_LIMIT": "100000/m", "LOGIN_RATE_LIMIT": "100000/m", "REGISTER_RATE_LIMIT": "100000/h"}


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log
        self.http_url = f"http://127.0.0.1:{port}/graphql/"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql/"

    def post(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """A GraphQL request over HTTP, as a mobile client sends it."""
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        request = urllib.request.Request(self.http_url, headers=headers,
                                         data=json.dumps({"query": query, "variables": variables or {}}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def rss_bytes(self) -> int:
        """The server process's resident memory (Linux)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


@contextmanager
def running_daphne(scratch: Path, **environment: str):
    """Start daphne on a free loopback port with `environment` added (settings read from the
    environment, e.g. GRAPHQL_WS_MAX_FRAME_BYTES), wait until it accepts connections, and stop
    its whole process group afterwards."""
    port = _free_port()
    log = scratch / f"daphne-{port}.log"
    variables = os.environ | UNLIMITED | {
        "DATABASE_URL": _database_url(scratch), "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "1",
        "LIVE_AUCTION_TIMER": "off", "DB_CONN_MAX_AGE": "0", "LOG_LEVEL": "WARNING"} | environment
    with log.open("w") as output:
        process = subprocess.Popen([str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                    "config.asgi:application"], cwd=PROJECT, env=variables, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_listening(process, port, log)
        yield Server(process, port, log)
    finally:
        _stop(process)


def _database_url(scratch: Path) -> str:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        # Through sqlite3 itself, not the ORM: tests start servers from their event loop too.
        path = scratch / "server.sqlite3"
        with closing(sqlite3.connect(database["NAME"], uri=True)) as test_database, closing(sqlite3.connect(path)) as copy:
            test_database.backup(copy)
        return f"sqlite:///{path}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path):
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert process.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"daphne did not start: {log.read_text()}"
            time.sleep(0.1)


def _stop(process: subprocess.Popen):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
