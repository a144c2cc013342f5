"""The stream's events over showEvents, as a viewer's app gets them: live, interrupted and
resumed in order with their serverTime, and a viewer who reconnects catching up on what it
missed (the callbacks are nginx-rtmp's, sent to the ASGI application's views)."""

from datetime import datetime

import pytest
from channels.db import database_sync_to_async

from live import services
from tests.live.helpers import Viewer
from tests.live.video.test_streams import SECRET, callback, publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_server(settings):
    settings.MEDIA_SERVER_CALLBACK_SECRET = SECRET


async def test_viewers_see_the_stream_go_live_drop_and_resume_and_catch_up(member, show_of):
    priya, ava = [await database_sync_to_async(member)(name) for name in ("priya", "ava")]
    show = await database_sync_to_async(show_of)(priya)
    issued = await database_sync_to_async(services.publish_credentials)(show=show, user=priya)
    viewer = await Viewer.watch(ava.token, show)
    snapshot = await viewer.event()
    assert snapshot["type"] == "SNAPSHOT" and snapshot["snapshot"] is not None

    assert await database_sync_to_async(publish)(issued.stream_key) == 200
    live = await viewer.event()
    assert (live["type"], live["streamState"]) == ("STREAM_LIVE", "LIVE")
    assert datetime.fromisoformat(live["serverTime"]) >= datetime.fromisoformat(live["at"])
    await viewer.close()

    assert await database_sync_to_async(callback)("publish_done", clientid="7") == 200
    assert await database_sync_to_async(publish)(issued.stream_key, clientid="8") == 200
    back = await Viewer.watch(ava.token, show, after_seq=live["seq"])
    missed = await back.events(2)
    assert [(event["type"], event["streamState"]) for event in missed] == [
        ("STREAM_INTERRUPTED", "INTERRUPTED"),
        ("STREAM_RESUMED", "LIVE"),
    ]
    assert [event["seq"] for event in missed] == [live["seq"] + 1, live["seq"] + 2]
    await back.close()
