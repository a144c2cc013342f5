"""Real server processes for tests: daphne on a free loopback port, in its own process group."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shared_database_url() -> str:
    """DATABASE_URL of the test database, for a server process to share it."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def start_daphne(environment: dict, log: Path) -> tuple[subprocess.Popen, int]:
    """Serve config.asgi on 127.0.0.1; returns the process and its port once it accepts connections."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen([str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                    "config.asgi:application"], cwd=PROJECT, env=os.environ | environment,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process, port
            except OSError:
                assert time.monotonic() < deadline, "daphne did not start"
                time.sleep(0.1)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen) -> None:
    """Terminate the process group, killing it if it does not exit within 10 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
