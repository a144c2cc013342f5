"""The provider interface beyond the default: a show failing over to a token provider (a test
double of a real-time service), and publishers racing for one key on PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from live import services
from live.models import PublishKey, ShowEvent, ShowStream
from live.video.base import CallbackRefused, Playback, PublishCredentials, SignalKind, StreamSignal, VideoProvider
from tests.helpers import gid, race
from tests.live.video.test_streams import SECRET, callback, credentials, publish

FAIL_OVER = """mutation($input: ShowIdInput!) { failOverShowStream(input: $input) { errors { code } } }"""
TOKEN_CREDENTIALS = """mutation($input: ShowIdInput!) { publishCredentials(input: $input) {
  credentials { ingestUrl streamKey token expiresAt } errors { code } } }"""
PLAYBACK = """query($id: ID!) { show(id: $id) { stream { state playback { url protocol token latencyMs } } } }"""


class TokenProvider(VideoProvider):
    """A real-time provider as the interface sees it: rooms, publish and playback tokens."""

    name = "token_double"
    expected_latency_ms = 400
    rooms: list[int] = []

    def prepare_show(self, stream) -> str:
        self.rooms.append(stream.show_id)
        return f"room-{stream.show_id}"

    def publish_credentials(self, stream, member, *, stream_key=None) -> PublishCredentials:
        expires = timezone.now() + timedelta(hours=1)
        return PublishCredentials(ingest_url="wss://rtc.invalid", token=f"publish-{member.pk}", expires_at=expires)

    def playback(self, stream, viewer) -> Playback:
        expires = timezone.now() + timedelta(hours=1)
        return Playback("wss://rtc.invalid", f"play-{viewer.pk}", expires, self.expected_latency_ms, "webrtc")


@pytest.fixture(autouse=True)
def _media_server(settings):
    settings.MEDIA_SERVER_CALLBACK_SECRET = SECRET
    TokenProvider.rooms.clear()  # other modules fail over to the double too (the permission matrix)


@pytest.mark.django_db
def test_a_host_fails_over_to_the_second_provider(gql, member, show_of, settings):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    assert gql(FAIL_OVER, {"input": {"showId": gid(show)}}, token=priya.token)["data"]["failOverShowStream"][
        "errors"
    ] == [{"code": "NO_FAILOVER_PROVIDER"}]
    settings.LIVE_VIDEO_FAILOVER_PROVIDER = f"{__name__}.TokenProvider"
    assert publish(key) == 200
    assert gql(FAIL_OVER, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["failOverShowStream"][
        "errors"
    ] == [{"code": "FORBIDDEN"}]
    assert (
        gql(FAIL_OVER, {"input": {"showId": gid(show)}}, token=priya.token)["data"]["failOverShowStream"]["errors"]
        == []
    )
    stream = ShowStream.objects.get(show=show)
    assert (stream.provider, stream.provider_room_id, stream.state) == (
        "token_double",
        f"room-{show.pk}",
        "interrupted",
    )
    assert TokenProvider.rooms.count(show.pk) == 1
    assert not PublishKey.objects.filter(revoked_at__isnull=True).exists()
    assert publish(key) == 403

    issued = gql(TOKEN_CREDENTIALS, {"input": {"showId": gid(show)}}, token=priya.token)["data"]
    assert issued["publishCredentials"]["credentials"]["token"] == f"publish-{priya.pk}"
    assert issued["publishCredentials"]["credentials"]["streamKey"] is None
    playback = gql(PLAYBACK, {"id": gid(show)}, token=ava.token)["data"]["show"]["stream"]["playback"]
    assert playback == {"url": "wss://rtc.invalid", "protocol": "WEBRTC", "token": f"play-{ava.pk}", "latencyMs": 400}

    with pytest.raises(CallbackRefused):
        services.apply_signal(StreamSignal(SignalKind.PUBLISH_STARTED, show.pk, timezone.now(), ava.pk, "s1"))
    services.apply_signal(StreamSignal(SignalKind.PUBLISH_STARTED, show.pk, timezone.now(), priya.pk, "s2"))
    types = ShowEvent.objects.filter(show=show, type__startswith="stream_").order_by("seq")
    assert [event.type for event in types] == ["stream_live", "stream_interrupted", "stream_resumed"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_publishers_racing_on_one_key_one_wins(gql, member, show_of):
    priya = member("priya")
    show = show_of(priya)
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    answers = race([lambda clientid=clientid: publish(key, clientid=clientid) for clientid in ("1", "2", "3", "4")])
    assert sorted(answers) == [200, 403, 403, 403]
    assert ShowEvent.objects.filter(show=show, type="stream_live").count() == 1
    assert callback("publish_done", clientid=str(answers.index(200) + 1)) == 200
    assert ShowStream.objects.get(show=show).state == "interrupted"
