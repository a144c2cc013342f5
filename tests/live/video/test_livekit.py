"""The LiveKit adapter with the real `livekit-api` SDK pointed at a local fake of LiveKit's Twirp
API (tests/fakes/livekit_api.py): a show's room is created once; the tokens it mints carry the
right grants and lives for the host, a co-host and a viewer (checked with the SDK's
TokenVerifier); co-host removal and the show's end reach LiveKit; webhooks move the stream only
when signed with the API secret."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from livekit import api

from live import services
from live.models import ShowEvent, ShowStream
from live.video.livekit import LiveKitProvider, room_name
from tests.helpers import gid
from tests.live.video.conftest import KEY, SECRET
from tests.processes import free_port, start_production_settings

pytestmark = pytest.mark.django_db


def _claims(token):
    return api.TokenVerifier(KEY, SECRET).verify(token)


def _lifetime(token):
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    return timedelta(seconds=claims["exp"] - claims["nbf"])


def test_a_show_gets_one_room_however_often_credentials_are_asked(livekit, member, show_of):
    host = member("ava")
    show = show_of(host)
    first = services.publish_credentials(show=show, user=host)
    second = services.publish_credentials(show=show, user=host)
    assert livekit.methods() == ["CreateRoom"]
    [(_, request)] = livekit.calls
    assert request.name == room_name(show.pk) and list(livekit.rooms) == [room_name(show.pk)]
    # the room records itself to an MP4 file: the replay
    assert request.egress.room.file_outputs[0].filepath.endswith(".mp4")
    stream = ShowStream.objects.get(show=show)
    assert (stream.provider, stream.provider_room_id) == ("livekit", room_name(show.pk))
    assert first.ingest_url == livekit.url and first.stream_key is None and second.token


def test_the_host_and_an_accepted_cohost_get_publish_tokens_for_their_show_only(
    livekit, member, show_of, settings, django_capture_on_commit_callbacks
):
    host, cohost = member("ava"), member("marco")
    show = show_of(host)
    services.invite_cohost(show=show, host=host, invitee=cohost)
    services.respond_to_cohost_invite(show=show, user=cohost, accept=True)
    for person in (host, cohost):
        credentials = services.publish_credentials(show=show, user=person)
        claims = _claims(credentials.token)
        assert claims.identity == str(person.pk) and claims.name == person.username
        video = claims.video
        assert (video.room_join, video.room, video.can_publish, video.can_publish_data, video.can_subscribe) == (
            True,
            room_name(show.pk),
            True,
            True,
            True,
        )
        assert _lifetime(credentials.token) == settings.LIVE_PUBLISH_TOKEN_LIFETIME
        # a room LiveKit closed meanwhile comes back from the host's join, recorded as before
        config = claims.room_config
        assert config.name == room_name(show.pk) and config.egress.room.file_outputs[0].filepath.endswith(".mp4")
        assert abs(credentials.expires_at - (timezone.now() + settings.LIVE_PUBLISH_TOKEN_LIFETIME)) < timedelta(
            seconds=5
        )


def test_a_viewer_token_subscribes_hidden_and_cannot_publish(livekit, member, show_of, settings):
    host, viewer = member("ava"), member("sam")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    provider = LiveKitProvider()
    stream = ShowStream.objects.get(show=show)
    playback = provider.playback(stream, viewer)
    claims = _claims(playback.token)
    assert claims.identity == f"viewer-{viewer.pk}"
    video = claims.video
    assert (video.room_join, video.room, video.can_subscribe, video.hidden) == (True, room_name(show.pk), True, True)
    assert (video.can_publish, video.can_publish_data) == (False, False)
    assert (playback.protocol, playback.url, playback.latency_ms) == ("webrtc", livekit.url, 400)
    assert _lifetime(playback.token) == settings.LIVE_PLAYBACK_TOKEN_LIFETIME
    guest = _claims(provider.playback(stream, None).token)
    assert guest.identity.startswith("guest-") and guest.video.can_publish is False
    with pytest.raises(Exception):  # noqa: B017 (PyJWT's InvalidSignatureError)
        api.TokenVerifier(KEY, "another-secret-of-the-same-good-length").verify(playback.token)


def test_removing_a_cohost_disconnects_them_and_ending_the_show_deletes_the_room(
    livekit, member, show_of, django_capture_on_commit_callbacks
):
    host, cohost = member("ava"), member("marco")
    show = show_of(host)
    services.invite_cohost(show=show, host=host, invitee=cohost)
    services.respond_to_cohost_invite(show=show, user=cohost, accept=True)
    services.publish_credentials(show=show, user=cohost)
    livekit.join(room_name(show.pk), str(cohost.pk))
    livekit.join(room_name(show.pk), str(host.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_cohost(show=show, user=host, cohost_user=cohost)
    assert set(livekit.participants[room_name(show.pk)]) == {str(host.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        services.end_show(show=show, user=host)
    assert livekit.rooms == {} and livekit.methods()[-1] == "DeleteRoom"


def _event(kind, show, identity, *, video=True, **fields):
    track = api.TrackInfo(sid="TR_1", type=api.VIDEO if video else api.AUDIO)
    return api.WebhookEvent(
        event=kind,
        id="EV_1",
        created_at=int(timezone.now().timestamp()),
        room=api.Room(name=room_name(show.pk)),
        participant=api.ParticipantInfo(sid="PA_host", identity=identity),
        track=track,
        **fields,
    )


def _post(body, token):
    headers = {"HTTP_AUTHORIZATION": token} if token is not None else {}
    return Client().post("/webhooks/livekit/", body, content_type="application/webhook+json", **headers)


def _stream_events(show):
    return list(ShowEvent.objects.filter(show=show, type__startswith="stream_").values_list("type", flat=True))


def test_signed_webhooks_move_the_stream_live_interrupted_and_live_again(livekit, member, show_of):
    host = member("ava")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    assert _post(*livekit.webhook(_event("participant_joined", show, str(host.pk)))).status_code == 200
    assert _post(*livekit.webhook(_event("track_published", show, str(host.pk), video=False))).status_code == 200
    assert _stream_events(show) == []  # joined with only a microphone: nobody sees the host yet
    assert _post(*livekit.webhook(_event("track_published", show, str(host.pk)))).status_code == 200
    assert ShowStream.objects.get(show=show).state == ShowStream.State.LIVE
    assert _post(*livekit.webhook(_event("participant_left", show, str(host.pk)))).status_code == 200
    assert ShowStream.objects.get(show=show).state == ShowStream.State.INTERRUPTED
    assert _post(*livekit.webhook(_event("track_published", show, str(host.pk)))).status_code == 200
    assert _stream_events(show) == ["stream_live", "stream_interrupted", "stream_resumed"]


def test_a_viewer_or_stranger_publishing_changes_nothing(livekit, member, show_of):
    host, stranger = member("ava"), member("sam")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    for identity in (f"viewer-{stranger.pk}", str(stranger.pk)):
        assert _post(*livekit.webhook(_event("track_published", show, identity))).status_code == 200
    assert ShowStream.objects.get(show=show).state == ShowStream.State.WAITING and _stream_events(show) == []


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing(livekit, member, show_of):
    host = member("ava")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    body, token = livekit.webhook(_event("track_published", show, str(host.pk)))
    _, foreign = livekit.webhook(_event("track_published", show, str(host.pk)), secret="x" * 40)
    other_body, _ = livekit.webhook(_event("track_unpublished", show, str(host.pk)))
    for attempt in ((body, None), (body, ""), (body, foreign), (other_body, token), (body, "not-a-jwt")):
        assert _post(*attempt).status_code == 401
    assert ShowStream.objects.get(show=show).state == ShowStream.State.WAITING and _stream_events(show) == []
    assert Client().get("/webhooks/livekit/").status_code == 405


def test_a_removed_viewer_is_disconnected_from_the_room(livekit, member, show_of, django_capture_on_commit_callbacks):
    host, viewer = member("ava"), member("sam")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    livekit.join(room_name(show.pk), f"viewer-{viewer.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        services.restrict_viewer(show=show, moderator=host, viewer=viewer, kind="removed")
    assert livekit.participants[room_name(show.pk)] == {}
    assert livekit.methods().count("RemoveParticipant") == 2  # as publisher (not there) and as viewer


def test_production_refuses_livekit_with_the_development_secret():
    code = "from django.conf import settings; print(settings.LIVEKIT_URL)"
    livekit = {"LIVE_VIDEO_PROVIDER": "live.video.livekit.LiveKitProvider"}
    refused = start_production_settings(code, **livekit)
    assert refused.returncode != 0 and "LIVEKIT_API_SECRET" in refused.stderr
    configured = start_production_settings(
        code, **livekit, LIVEKIT_URL="https://rtc.example", LIVEKIT_API_KEY="k", LIVEKIT_API_SECRET="s" * 40
    )
    assert configured.stdout.strip() == "https://rtc.example", configured.stderr


CREDENTIALS = """mutation($input: ShowIdInput!) { publishCredentials(input: $input) {
  credentials { ingestUrl streamKey token expiresAt } errors { code } } }"""
PLAYBACK = (
    """query($id: ID!) { show(id: $id) { stream { state playback { url protocol token latencyMs expiresAt } } } }"""
)


def test_over_graphql_the_host_gets_a_publish_token_and_a_viewer_a_subscribe_token(livekit, member, show_of, api):
    host, viewer, stranger = member("ava"), member("sam"), member("priya")
    show = show_of(host)
    answer = api(CREDENTIALS, {"input": {"showId": gid(show)}}, token=host.token)["data"]["publishCredentials"]
    assert answer["errors"] == [] and answer["credentials"]["ingestUrl"] == livekit.url
    assert answer["credentials"]["streamKey"] is None and _claims(answer["credentials"]["token"]).video.can_publish
    refused = api(CREDENTIALS, {"input": {"showId": gid(show)}}, token=stranger.token)["data"]["publishCredentials"]
    assert refused == {"credentials": None, "errors": [{"code": "FORBIDDEN"}]}
    stream = api(PLAYBACK, {"id": gid(show)}, token=viewer.token)["data"]["show"]["stream"]
    playback = stream["playback"]
    assert (stream["state"], playback["protocol"], playback["url"], playback["latencyMs"]) == (
        "WAITING",
        "WEBRTC",
        livekit.url,
        400,
    )
    claims = _claims(playback["token"])
    assert claims.identity == f"viewer-{viewer.pk}" and claims.video.can_publish is False
    assert livekit.methods() == ["CreateRoom"]


def test_livekit_out_of_reach_is_a_typed_error_and_changes_nothing(livekit, member, show_of, api, settings):
    host = member("ava")
    show = show_of(host)
    settings.LIVEKIT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    answer = api(CREDENTIALS, {"input": {"showId": gid(show)}}, token=host.token)["data"]["publishCredentials"]
    assert answer == {"credentials": None, "errors": [{"code": "VIDEO_PROVIDER_UNAVAILABLE"}]}
    assert ShowStream.objects.get(show=show).provider_room_id == ""  # prepared on the next ask
