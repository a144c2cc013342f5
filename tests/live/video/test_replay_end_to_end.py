"""Acceptance: on the real media server, what a host streamed is the show's replay. ffmpeg
publishes a test pattern with the host's key for a few seconds; nginx-rtmp records it and
reports the FLV (on_record_done); the host ends the show; the replay's MP4 is fetched from its
link and ffprobe reads an MP4 of about that length."""

import asyncio
import json
import time
import urllib.request

import pytest
from channels.db import database_sync_to_async

from tests.helpers import gid
from tests.live.helpers import http_post, post
from tests.live.video.test_media_server import CREDENTIALS, publish, pytestmark  # noqa: F401 (the same skip)
from tests.live.video.test_replays import _probe

BACKEND_PORT, RTMP_PORT, HTTP_PORT = 8120, 8121, 8122
END = """mutation($input: ShowIdInput!) { endShow(input: $input) { errors { code } } }"""
REPLAY = """query($showId: ID!) { showReplay(showId: $showId) { url durationSeconds } }"""


@pytest.fixture
def media_stack(processes, tmp_path):
    environment = {
        "MEDIA_SERVER_HTTP_PORT": str(HTTP_PORT),
        "MEDIA_SERVER_INGEST_URL": f"rtmp://127.0.0.1:{RTMP_PORT}/live",
        "MEDIA_SERVER_PLAYBACK_URL": f"http://127.0.0.1:{HTTP_PORT}/hls",
        "MEDIA_SERVER_BACKEND_URL": f"http://127.0.0.1:{BACKEND_PORT}",
        "MEDIA_SERVER_CALLBACK_SECRET": "replay-acceptance-secret",
        "MEDIA_SERVER_DIR": str(tmp_path / "media-server"),
    }

    def start():
        # No Celery worker here: the backend builds the replay in the request that ends the show.
        processes.daphne(
            BACKEND_PORT,
            MEDIA_SERVER_RTMP_PORT=str(RTMP_PORT),
            MEDIA_ROOT=str(tmp_path / "media"),
            PUBLIC_API_URL=f"http://127.0.0.1:{BACKEND_PORT}",
            CELERY_TASK_ALWAYS_EAGER="true",
            **environment,
        )
        processes.media_server(RTMP_PORT, **environment)

    return start


def _replay(token, show, seconds=30):
    """The show's replay once it is ready (the recording's callback may come after the end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        replay = json.loads(http_post(BACKEND_PORT, token, REPLAY, {"showId": gid(show)})[1])["data"]["showReplay"]
        if replay is not None:
            return replay
        time.sleep(0.25)
    raise AssertionError(f"no replay within {seconds}s")


async def test_what_the_host_streamed_is_the_replay(media_stack, member, show_of, tmp_path):
    priya, ava = [await database_sync_to_async(member)(name) for name in ("priya", "ava")]
    show = await database_sync_to_async(show_of)(priya, listings=1)
    await asyncio.to_thread(media_stack)
    issued = (await asyncio.to_thread(post, BACKEND_PORT, priya.token, CREDENTIALS, showId=gid(show)))["data"]
    credentials = issued["publishCredentials"]["credentials"]

    host = publish(credentials["ingestUrl"], credentials["streamKey"], seconds=4)
    assert await asyncio.to_thread(host.wait, 30) == 0, host.stderr.read()
    ended = await asyncio.to_thread(post, BACKEND_PORT, priya.token, END, showId=gid(show))
    assert ended["data"]["endShow"]["errors"] == []

    replay = await asyncio.to_thread(_replay, ava.token, show)
    with urllib.request.urlopen(replay["url"], timeout=10) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "video/mp4"
        (tmp_path / "replay.mp4").write_bytes(response.read())
    probed = _probe(tmp_path / "replay.mp4")
    assert "mp4" in probed["format_name"].split(",")
    assert float(probed["duration"]) == pytest.approx(4, abs=1.5) == replay["durationSeconds"]
