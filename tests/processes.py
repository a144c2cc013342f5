"""Real processes for the tests that need them: daphne servers, Celery workers, a private Redis,
the media server.

Each runs on loopback against the test's database (on SQLite, whose test database lives in
memory, a file copy of it taken when the process starts), logs into the test's folder, and is
killed with its whole process group when the test ends (the `processes` fixture of
tests/conftest.py). Every wait has a deadline.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Celery's Redis transport keys: the queue and the messages reserved but never acknowledged.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


def start_production_settings(code: str, **environment) -> subprocess.CompletedProcess:
    """Run `code` in a Python process on the production settings (mail by SMTP, media in a bucket,
    the media server's own secret) with `environment` on top; its output and return code."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("EMAIL_", "LIVEKIT_"))}
    production = {
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "ALLOWED_HOSTS": "api.closetline.example",
        "MEDIA_S3_BUCKET": "closetline-media",
        "SECRET_KEY": "test-not-secret-but-long-enough-0123456789abcdef0123456789abcdef",
        "MEDIA_SERVER_CALLBACK_SECRET": "test-media-server-secret",
        "EMAIL_PROVIDER": "smtp",
        "EMAIL_HOST": "smtp.shop.example",
        "DEFAULT_FROM_EMAIL": "Shop <no-reply@shop.example>",
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=inherited | production | environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_port(process: subprocess.Popen, log: Path, port: int, seconds: float, what: str) -> None:
    def accepting():
        assert process.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_for(accepting, seconds, what)


def use_broker(url: str) -> None:
    """Point this process's Celery app at another broker. Celery has no public switch once the
    app has published: its connection and producer pools keep the first url, so both go."""
    from config.celery import app

    app.conf.update(broker_url=url, broker_write_url=url)
    app._pool = None
    app.amqp._producer_pool = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database (not the one DATABASE_URL names) as a URL for a child process."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class Processes:
    """Starts processes for one test and kills them all at its end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def environment(self, **overrides) -> dict:
        return (
            os.environ
            | {"DATABASE_URL": self.database_url(), "REDIS_URL": settings.REDIS_URL, "LIVE_AUCTION_TIMER": "off"}
            | overrides
        )

    def database_url(self) -> str:
        if connection.vendor != "sqlite":
            return database_url()
        # Through sqlite3 itself, not the ORM: tests start processes from their event loop too.
        copy = self.log_dir / f"database{len(self.started)}.sqlite3"
        with (
            closing(sqlite3.connect(connection.settings_dict["NAME"], uri=True)) as test_database,
            closing(sqlite3.connect(copy)) as target,
        ):
            test_database.backup(target)
        return f"sqlite:///{copy}"

    def daphne(self, port: int | None = None, **environment) -> int:
        """A daphne process serving config.asgi (on `port`, or a free one); returns its port once
        it accepts connections."""
        port = port or free_port()
        process, log = self._spawn(
            "daphne",
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            self.environment(**environment),
        )
        wait_for_port(process, log, port, 30, "daphne to start")
        return port

    def media_server(self, rtmp_port: int, **environment) -> subprocess.Popen:
        """`manage.py run_media_server` (nginx with its RTMP module in the foreground), returned
        once it accepts RTMP connections on `rtmp_port`."""
        process, log = self._spawn(
            "media-server",
            [sys.executable, "manage.py", "run_media_server"],
            self.environment(MEDIA_SERVER_RTMP_PORT=str(rtmp_port), **environment),
        )
        wait_for_port(process, log, rtmp_port, 30, "the media server to start")
        return process

    def make_run(self, port: int | None = None) -> tuple[int, Path]:
        """`make run` as a newcomer runs it: the embedded default (a fresh SQLite file here, no
        Redis), migrations, the demo data, then daphne (on `port`, or a free one). Returns its port
        and its output's log."""
        port = port or free_port()
        environment = {
            name: value
            for name, value in os.environ.items()
            if name not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
        }
        environment |= {
            "DATABASE_URL": f"sqlite:///{self.log_dir / 'make-run.sqlite3'}",
            "MEDIA_ROOT": str(self.log_dir / "media"),
        }
        process, log = self._spawn(
            "make-run", ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"], environment
        )
        wait_for_port(process, log, port, 120, "make run to serve")
        return port, log

    def worker(self, **environment) -> subprocess.Popen:
        """A Celery worker (two prefork children) on the environment's database and broker."""
        process, log = self._spawn(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test{len(self.started)}@%h",
            ],
            self.environment(CELERY_TASK_ALWAYS_EAGER="0", **environment),
        )
        wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 30, "the worker to start")
        assert process.poll() is None, log.read_text()
        return process

    def redis(self) -> "RedisServer":
        return RedisServer(self)

    def _spawn(self, name: str, command: list[str], environment: dict) -> tuple[subprocess.Popen, Path]:
        """Start `command` in a session of its own (killed as a group); `process.log` is its output."""
        log = self.log_dir / f"{name}{len(self.started)}.log"
        process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=environment,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log
        self.started.append(process)
        return process, log

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and its children (a crash, not a shutdown)."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.started:
            self.kill(process)


class RedisServer:
    """A private redis-server on a free loopback port, without persistence: tests kill it with
    SIGKILL and start it again, empty, on the same port (the shared Redis is never touched)."""

    def __init__(self, processes: Processes):
        self.processes = processes
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        self.process, log = self.processes._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.processes.log_dir),
            ],
            os.environ.copy(),
        )
        client = redis.Redis(port=self.port, socket_timeout=1)

        def answering():
            assert self.process.poll() is None, log.read_text()
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answering, 10, "redis-server to start")
        client.close()
        return self

    def kill(self) -> None:
        self.processes.kill(self.process)
