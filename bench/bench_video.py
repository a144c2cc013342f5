"""The host's video on the default media server: a publisher starts (ffmpeg, a generated test
pattern over RTMP with the host's key) before 1,000 WebSocket viewers of the show on one daphne
process, and the benchmark times, from the publisher's start:

- every viewer holding STREAM_LIVE (nginx's on_publish callback, the stream's state change and
  its event fanned out), beside a raw `websockets` server broadcasting one frame of the same
  size to the same number of clients;
- the first playable HLS segment at the viewers' playback URL (through the playback grant),
  beside the same publish into a raw nginx-rtmp with no callbacks and no grant.

Needs nginx, libnginx-mod-rtmp and ffmpeg (else it says so and measures nothing). Loopback only,
bounded in clients (LIVE_BENCH_VIEWERS, as bench_live) and time; every process is stopped.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.utils import timezone
from graphql_relay import to_global_id
from websockets.asyncio.client import connect

from bench import bench_live
from bench.bench_live import RAW_SERVER, Room, Round, open_room
from bench.harness import (
    daphne_command,
    daphne_environment,
    database_url_for_server,
    members_with_tokens,
    post_graphql,
    raise_open_file_limit,
    server,
)
from bench.loadgen import percentile
from live import services
from live.video import nginx_rtmp
from tests.processes import free_port

NAME = "video"
VIEWERS = bench_live.VIEWERS
DEADLINE = 60.0  # seconds for the stream to be live everywhere, or a segment to be playable
PLAYBACK = """query($id: ID!) { show(id: $id) { stream { playback { url latencyMs } } } }"""
# The baseline media server: the same ingest and HLS, nothing asked of the backend.
RAW_NGINX = """daemon off; worker_processes 1; {user} pid {dir}/nginx.pid; error_log {dir}/error.log warn;
load_module {module};
events {{ worker_connections 1024; }}
rtmp {{ server {{ listen 127.0.0.1:{rtmp}; application live {{ live on; hls on; hls_path {dir}/hls;
  hls_nested on; hls_fragment {fragment}s; hls_playlist_length {playlist}s; }} }} }}
http {{ access_log off; client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
  server {{ listen 127.0.0.1:{http}; location /hls/ {{ alias {dir}/hls/; }} }} }}
"""


def run(report):
    if not (nginx_rtmp.installed() and shutil.which("ffmpeg")):
        print(f"{NAME:>12} | needs nginx, libnginx-mod-rtmp and ffmpeg; nothing measured")
        return
    raise_open_file_limit(2 * VIEWERS + 200)
    world = _build_world()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        http_port = free_port()
        media = {
            "MEDIA_SERVER_HTTP_PORT": str(http_port),
            "MEDIA_SERVER_PLAYBACK_URL": f"http://127.0.0.1:{http_port}/hls",
            "MEDIA_SERVER_DIR": str(scratch / "media-server"),
        }
        environment = daphne_environment(database_url_for_server(scratch), **media)
        with server(daphne_command(), environment) as port:
            media_command = [sys.executable, "manage.py", "run_media_server", "--rtmp-port", "{port}"]
            media_environment = environment | {"MEDIA_SERVER_BACKEND_URL": f"http://127.0.0.1:{port}"}
            with server(media_command, media_environment) as rtmp_port:
                ingest = f"rtmp://127.0.0.1:{rtmp_port}/live/{world['stream_key']}"
                measured = asyncio.run(_measure(port, world, ingest))
        raw_segment = _raw_first_segment(scratch / "raw")
    raw_live = asyncio.run(_raw_broadcast(measured["sample"]))
    _report(report, measured, raw_live, raw_segment)


def _build_world() -> dict:
    viewers, tokens = members_with_tokens("video-viewer", VIEWERS)
    (host,), _ = members_with_tokens("video-host", 1)
    show = services.create_show(host=host, title="Bench stream", scheduled_start=timezone.now())
    services.start_show(show=show, user=host)
    credentials = services.publish_credentials(show=show, user=host)
    return {"show": to_global_id("Show", show.pk), "viewer_tokens": tokens, "stream_key": credentials.stream_key}


async def _measure(port: int, world: dict, ingest: str) -> dict:
    room = await open_room([port], world)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        answer = await post_graphql(client, world["viewer_tokens"][0], PLAYBACK, {"id": world["show"]})
    playback = answer["data"]["show"]["stream"]["playback"]
    room.round = Round(lambda event: event["type"] == "STREAM_LIVE")
    with _publishing(ingest) as started:
        await room.wait(room.round)
        live = [(times[0] - started) * 1000 for times in room.round.times.values()]
        segment = await asyncio.to_thread(_first_segment, playback["url"], started)
    await room.close()
    return {"live": live, "segment": segment, "latency": playback["latencyMs"], "sample": room.round.sample}


@contextmanager
def _publishing(ingest: str):
    """ffmpeg publishing the test pattern to `ingest`; yields the perf_counter of its start."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            "ffmpeg", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi", "-i", "sine",
            "-t", str(int(DEADLINE)), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-g", "15", "-c:a", "aac", "-f", "flv", ingest,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield started
    finally:
        process.terminate()
        process.wait(10)


def _first_segment(playlist_url: str, started: float) -> float:
    """Milliseconds from `started` until the playlist lists a segment that downloads."""
    deadline = started + DEADLINE
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() < deadline:
            playlist = client.get(playlist_url)
            segments = [line for line in playlist.text.splitlines() if line.endswith(".ts")]
            if playlist.status_code == 200 and segments:
                segment = client.get(playlist_url.rsplit("/", 1)[0] + "/" + segments[0])
                if segment.status_code == 200 and segment.content[:1] == b"G":
                    return (time.perf_counter() - started) * 1000
            time.sleep(0.02)
    raise RuntimeError(f"no playable HLS segment at {playlist_url} within {DEADLINE:g} s")


def _raw_first_segment(directory: Path) -> float:
    """The same publish into nginx-rtmp alone: no callbacks, no playback grant."""
    for sub in ("hls", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    rtmp, http = free_port(), free_port()
    fragment = settings.MEDIA_SERVER_HLS_FRAGMENT_SECONDS
    (directory / "nginx.conf").write_text(
        RAW_NGINX.format(
            user="user root;" if os.geteuid() == 0 else "",
            dir=directory,
            module=nginx_rtmp.RTMP_MODULE,
            rtmp=rtmp,
            http=http,
            fragment=fragment,
            playlist=4 * fragment,
        )
    )
    command = [shutil.which("nginx"), "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", "stderr"]
    # server() waits for the port it substitutes: nginx's own is fixed, so wait for it by hand.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_listening(rtmp)
        with _publishing(f"rtmp://127.0.0.1:{rtmp}/live/raw") as started:
            return _first_segment(f"http://127.0.0.1:{http}/hls/raw/index.m3u8", started)
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the raw media server did not start")


async def _raw_broadcast(sample: str) -> list[float]:
    """A raw websockets server relaying one frame of STREAM_LIVE's size to VIEWERS clients."""
    with server([sys.executable, "-c", RAW_SERVER, "{port}"], os.environ.copy()) as port:
        room = Room([f"ws://127.0.0.1:{port}/"], json.loads)

        async def greet(socket_, number):
            pass

        await room.open(greet)
        async with connect(f"ws://127.0.0.1:{port}/", compression=None) as control:
            await asyncio.sleep(0.5)  # every client registered with the server
            room.round = Round(lambda event: event.get("round") == "live")
            started = time.perf_counter()
            await control.send(json.dumps(json.loads(sample) | {"round": "live"}))
            await room.wait(room.round)
        await room.close()
    return [(times[0] - started) * 1000 for times in room.round.times.values()]


def _report(report, measured: dict, raw_live: list[float], raw_segment: float) -> None:
    live, count = measured["live"], f"{VIEWERS:,}"
    report.add(
        NAME,
        f"publisher start → all {count} viewers hold STREAM_LIVE",
        max(live),
        "ms",
        baseline=max(raw_live),
        baseline_label="raw websockets broadcast of one frame",
        target="(RTMP connect + on_publish + fan-out; no §6 target)",
    )
    report.add(NAME, "publisher start → STREAM_LIVE, p50 of viewers", percentile(live, 50), "ms")
    report.add(
        NAME,
        "publisher start → first playable HLS segment",
        measured["segment"],
        "ms",
        baseline=raw_segment,
        baseline_label="raw nginx-rtmp, no callbacks",
        target=f"≤ raw + 500 ms (expected playback latency {measured['latency']:,} ms)",
        met=measured["segment"] <= raw_segment + 500,
    )
