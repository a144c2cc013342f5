"""Acceptance: a host streams to the real media server (nginx with its RTMP module) and the
show's viewers see it. ffmpeg publishes a generated test pattern with the host's key; viewers
get STREAM_LIVE; the HLS playlist and a segment come from the playback URL with its token (and
not without); a second publisher on the key and a wrong key are refused; ffmpeg stops and
viewers get STREAM_INTERRUPTED."""

import asyncio
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from channels.db import database_sync_to_async

from live.video import nginx_rtmp
from tests.helpers import gid
from tests.live.helpers import http_post, next_event, post, watch

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (nginx_rtmp.installed() and shutil.which("ffmpeg")),
        reason="needs nginx, libnginx-mod-rtmp and ffmpeg (apt-get install nginx libnginx-mod-rtmp ffmpeg)",
    ),
]

BACKEND_PORT, RTMP_PORT, HTTP_PORT = 8110, 8111, 8112
CREDENTIALS = """mutation($input: ShowIdInput!) { publishCredentials(input: $input) {
  errors { code } credentials { ingestUrl streamKey } } }"""
PLAYBACK = """query($id: ID!) { show(id: $id) { stream { state playback { url protocol latencyMs } } } }"""


def publish(ingest_url: str, key: str, seconds: int = 40) -> subprocess.Popen:
    return subprocess.Popen(
        [
            "ffmpeg", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
            "-f", "lavfi", "-i", "sine",
            "-t", str(seconds),
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
            "-c:a", "aac", "-f", "flv", f"{ingest_url}/{key}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def first_segment(playlist_url: str, seconds: float = 30) -> tuple[str, bytes]:
    """The playlist once it lists a segment, and that segment's address."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, body = fetch(playlist_url)
        segments = [line for line in body.decode().splitlines() if line.endswith(".ts")] if status == 200 else []
        if segments:
            return playlist_url.rsplit("/", 1)[0] + "/" + segments[0], body
        time.sleep(0.25)
    raise AssertionError(f"no HLS segment at {playlist_url} within {seconds}s (last status {status})")


@pytest.fixture
def media_stack(processes, tmp_path):
    """The backend (daphne) and the media server calling it back, on this helper's ports."""
    environment = {
        "MEDIA_SERVER_HTTP_PORT": str(HTTP_PORT),
        "MEDIA_SERVER_INGEST_URL": f"rtmp://127.0.0.1:{RTMP_PORT}/live",
        "MEDIA_SERVER_PLAYBACK_URL": f"http://127.0.0.1:{HTTP_PORT}/hls",
        "MEDIA_SERVER_BACKEND_URL": f"http://127.0.0.1:{BACKEND_PORT}",
        "MEDIA_SERVER_CALLBACK_SECRET": "acceptance-test-secret",
        "MEDIA_SERVER_DIR": str(tmp_path / "media-server"),
    }

    def start():
        processes.daphne(BACKEND_PORT, MEDIA_SERVER_RTMP_PORT=str(RTMP_PORT), **environment)
        processes.media_server(RTMP_PORT, **environment)

    return start


async def test_a_host_streams_and_viewers_see_it_live_then_interrupted(media_stack, member, show_of):
    priya, ava = [await database_sync_to_async(member)(name) for name in ("priya", "ava")]
    show = await database_sync_to_async(show_of)(priya, listings=1)
    await asyncio.to_thread(media_stack)

    issued = (await asyncio.to_thread(post, BACKEND_PORT, priya.token, CREDENTIALS, showId=gid(show)))["data"]
    credentials = issued["publishCredentials"]["credentials"]
    assert credentials["ingestUrl"] == f"rtmp://127.0.0.1:{RTMP_PORT}/live" and credentials["streamKey"]
    viewer = await watch(BACKEND_PORT, ava.token, show)
    assert (await next_event(viewer))["type"] == "SNAPSHOT"

    room = credentials["streamKey"].split("?")[0]
    wrong = publish(credentials["ingestUrl"], f"{room}?key=not-the-key", seconds=5)
    assert await asyncio.to_thread(wrong.wait, 20) != 0, "a wrong key was let in"

    host = publish(credentials["ingestUrl"], credentials["streamKey"])
    try:
        live = await next_event(viewer)
        assert live["type"] == "STREAM_LIVE" and live["serverTime"]

        second = publish(credentials["ingestUrl"], credentials["streamKey"], seconds=5)
        assert await asyncio.to_thread(second.wait, 20) != 0, "a second publisher on the key was let in"

        body = {"id": gid(show)}
        answer = (await asyncio.to_thread(post_query, ava.token, PLAYBACK, body))["data"]["show"]["stream"]
        assert answer["state"] == "LIVE" and answer["playback"]["protocol"] == "HLS"
        assert answer["playback"]["latencyMs"] > 0
        playlist_url = answer["playback"]["url"]
        segment_url, playlist = await asyncio.to_thread(first_segment, playlist_url)
        assert playlist.startswith(b"#EXTM3U")
        status, segment = await asyncio.to_thread(fetch, segment_url)
        assert status == 200 and segment[:1] == b"G"  # an MPEG-TS packet's sync byte
        token = playlist_url.split("/")[-3]
        assert (await asyncio.to_thread(fetch, playlist_url.replace(token, "forged")))[0] == 403
        assert (await asyncio.to_thread(fetch, playlist_url.replace(f"/{token}", "")))[0] == 404
    finally:
        host.terminate()
        await asyncio.to_thread(host.wait, 10)

    interrupted = await next_event(viewer)
    assert interrupted["type"] == "STREAM_INTERRUPTED"
    await viewer.close()


def post_query(token: str, query: str, variables: dict) -> dict:
    return json.loads(http_post(BACKEND_PORT, token, query, variables)[1])
