import pytest

from live.video import base
from tests.fakes.livekit_api import FakeLiveKit, serve

KEY, SECRET = "test-key", "test-secret-long-enough-for-hs256-signing"


@pytest.fixture
def livekit(settings):
    """The LiveKit provider of new shows, its SDK pointed at a local fake of LiveKit's API."""
    fake = FakeLiveKit(KEY, SECRET)
    server = serve(fake)
    settings.LIVE_VIDEO_PROVIDER = "live.video.livekit.LiveKitProvider"
    settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = fake.url, KEY, SECRET
    base._load.cache_clear()
    try:
        yield fake
    finally:
        base._load.cache_clear()
        server.shutdown()
        server.server_close()
