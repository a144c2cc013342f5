"""The host's video without a media server: publish credentials through GraphQL, the media
server's callbacks as nginx-rtmp sends them (the keys, the secret, the address), the stream's
state and its events, auctions paused with the stream, and who may play."""

import logging
from datetime import timedelta

import pytest
from django.test import Client

from live import services
from live.models import Auction, PublishKey, ShowEvent, ShowStream
from tests.helpers import assert_constant_queries, gid
from tests.processes import start_production_settings

pytestmark = pytest.mark.django_db

CREDENTIALS = """mutation($input: ShowIdInput!) { publishCredentials(input: $input) {
  credentials { ingestUrl streamKey expiresAt } errors { field code } } }"""
ROTATE = """mutation($input: ShowIdInput!) { rotateStreamKey(input: $input) {
  credentials { ingestUrl streamKey } errors { code } } }"""
GOES_LIVE = """mutation($input: SetShowGoesLiveWithStreamInput!) { setShowGoesLiveWithStream(input: $input) {
  show { stream { goesLiveWithStream state } } errors { code } } }"""
STREAM = """query($id: ID!) { show(id: $id) { state stream { state wentLiveAt interruptedAt
  playback { url protocol token expiresAt latencyMs } } } }"""
START = """mutation($input: StartShowAuctionInput!) { startShowAuction(input: $input) { errors { code } } }"""
BID = """mutation($input: PlaceBidInput!) { placeBid(input: $input) { errors { code } } }"""
SECRET = "unit-test-secret"


@pytest.fixture(autouse=True)
def _media_server(settings):
    settings.MEDIA_SERVER_CALLBACK_SECRET = SECRET
    settings.MEDIA_SERVER_INGEST_URL = "rtmp://127.0.0.1:8111/live"
    settings.MEDIA_SERVER_PLAYBACK_URL = "http://127.0.0.1:8112/hls"


def credentials(gql, person, show, query=CREDENTIALS):
    body = gql(query, {"input": {"showId": gid(show)}}, token=person.token)["data"]
    return next(iter(body.values()))


def callback(call, secret=SECRET, address="127.0.0.1", **form):
    response = Client(REMOTE_ADDR=address).post(f"/media-server/{secret}/on_{call}", {"call": call, **form})
    return response.status_code


def publish(stream_key, clientid="7"):
    room, key = stream_key.split("?key=")
    return callback("publish", name=room, key=key, clientid=clientid, app="live")


def stream_events(show):
    return list(ShowEvent.objects.filter(show=show, type__startswith="stream_").values_list("type", flat=True))


def test_the_host_gets_a_key_once_and_a_new_one_by_rotating(gql, member, show_of):
    priya = member("priya")
    show = show_of(priya)
    first = credentials(gql, priya, show)
    assert first["errors"] == [] and first["credentials"]["ingestUrl"] == "rtmp://127.0.0.1:8111/live"
    key = first["credentials"]["streamKey"]
    assert key.startswith(f"show-{show.pk}?key=") and len(key.split("?key=")[1]) == 32
    assert key.split("?key=")[1] not in str(list(PublishKey.objects.values()))  # kept hashed only
    assert credentials(gql, priya, show)["credentials"]["streamKey"] is None
    rotated = credentials(gql, priya, show, ROTATE)["credentials"]["streamKey"]
    assert rotated and rotated != key
    assert publish(key) == 403
    assert publish(rotated) == 200


def test_only_who_runs_the_show_gets_credentials(gql, member, show_of):
    priya, ava, marco = member("priya"), member("ava"), member("marco")
    show = show_of(priya)
    services.invite_cohost(show=show, host=priya, invitee=ava)
    services.invite_cohost(show=show, host=priya, invitee=marco)
    assert credentials(gql, ava, show)["errors"] == [{"field": "showId", "code": "FORBIDDEN"}]
    services.respond_to_cohost_invite(show=show, user=ava, accept=True)
    assert credentials(gql, ava, show)["credentials"]["streamKey"]
    assert credentials(gql, member("zoe"), show)["errors"][0]["code"] == "FORBIDDEN"
    assert not PublishKey.objects.filter(member__username__in=["marco", "zoe"]).exists()


def test_a_removed_cohost_and_an_ended_show_lose_their_keys(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    services.invite_cohost(show=show, host=priya, invitee=ava)
    services.respond_to_cohost_invite(show=show, user=ava, accept=True)
    host_key = credentials(gql, priya, show)["credentials"]["streamKey"]
    cohost_key = credentials(gql, ava, show)["credentials"]["streamKey"]
    services.remove_cohost(show=show, user=priya, cohost_user=ava)
    assert publish(cohost_key) == 403
    services.end_show(show=show, user=priya)
    assert publish(host_key) == 403
    assert not PublishKey.objects.filter(revoked_at__isnull=True).exists()
    assert stream_events(show) == ["stream_ended"]


def test_refused_callbacks_change_nothing_and_log_no_secret(gql, member, show_of, caplog):
    priya = member("priya")
    show = show_of(priya)
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    room, secret_part = key.split("?key=")
    with caplog.at_level(logging.WARNING, logger="closetline.live"):
        assert callback("publish", name=room, key="wrong-key", clientid="1") == 403
        assert callback("publish", secret="guessed", name=room, key=secret_part, clientid="1") == 403
        assert callback("publish", address="10.0.0.9", name=room, key=secret_part, clientid="1") == 403
        assert callback("publish", name=f"show-{show.pk + 1}", key=secret_part, clientid="1") == 403
    assert ShowStream.objects.get(show=show).state == ShowStream.State.WAITING
    assert stream_events(show) == []
    assert len([record for record in caplog.records if record.name == "closetline.live"]) == 4
    assert all(
        secret_part not in record.getMessage() and "wrong-key" not in record.getMessage() for record in caplog.records
    )


def test_a_second_publisher_on_a_key_in_use_is_refused(gql, member, show_of):
    priya = member("priya")
    show = show_of(priya)
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    assert publish(key, clientid="1") == 200
    assert publish(key, clientid="2") == 403
    assert callback("publish_done", clientid="2") == 200  # the refused one leaving changes nothing
    assert ShowStream.objects.get(show=show).state == ShowStream.State.LIVE


def test_the_stream_goes_live_is_interrupted_and_resumes_each_an_event(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    assert gql(STREAM, {"id": gid(show)}, token=ava.token)["data"]["show"]["stream"]["state"] == "WAITING"
    assert publish(key) == 200
    assert callback("publish_done", clientid="7") == 200
    stream = gql(STREAM, {"id": gid(show)}, token=ava.token)["data"]["show"]["stream"]
    assert stream["state"] == "INTERRUPTED" and stream["interruptedAt"] and stream["wentLiveAt"]
    assert publish(key, clientid="8") == 200
    assert stream_events(show) == ["stream_live", "stream_interrupted", "stream_resumed"]
    seqs = list(ShowEvent.objects.filter(show=show).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_the_show_goes_live_with_its_stream_when_the_host_chose_so(gql, member, show_of):
    priya = member("priya")
    show = show_of(priya, live=False)
    body = gql(GOES_LIVE, {"input": {"showId": gid(show), "enabled": True}}, token=priya.token)["data"]
    assert body["setShowGoesLiveWithStream"]["show"]["stream"] == {"goesLiveWithStream": True, "state": "WAITING"}
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    assert publish(key) == 200
    show.refresh_from_db()
    assert show.state == show.State.LIVE
    assert ShowEvent.objects.filter(show=show, type=ShowEvent.Type.STATE, data__state="live").exists()


def test_auctions_wait_for_the_stream_and_pause_with_it(gql, member, show_of, make_buyer):
    priya = member("priya")
    show = show_of(priya, listings=1)
    ava, token = make_buyer("ava")
    key = credentials(gql, priya, show)["credentials"]["streamKey"]
    listing = show.line_up.first().listing
    start = {"showId": gid(show), "listingId": gid(listing), "startPrice": "10.00", "durationSeconds": 60}
    assert gql(START, {"input": start}, token=priya.token)["data"]["startShowAuction"]["errors"] == [
        {"code": "STREAM_DOWN"}
    ]
    assert publish(key) == 200
    assert gql(START, {"input": start}, token=priya.token)["data"]["startShowAuction"]["errors"] == []
    auction = Auction.objects.get()
    callback("publish_done", clientid="7")
    auction.refresh_from_db()
    assert auction.paused_at is not None
    bid = {"auctionId": gid(auction), "amount": "10.00"}
    assert gql(BID, {"input": bid}, token=token)["data"]["placeBid"]["errors"] == [{"code": "AUCTION_PAUSED"}]
    assert services.close_due_auctions(now=auction.ends_at + timedelta(minutes=5)) == 0
    paused_at, ends_at = auction.paused_at, auction.ends_at
    assert publish(key, clientid="8") == 200
    auction.refresh_from_db()
    resumed = ShowEvent.objects.get(show=show, type=ShowEvent.Type.AUCTION_RESUMED).created_at
    assert auction.paused_at is None and auction.ends_at == ends_at + (resumed - paused_at)
    assert gql(BID, {"input": bid}, token=token)["data"]["placeBid"]["errors"] == []
    paused = ShowEvent.objects.filter(show=show, type__in=["auction_paused", "auction_resumed"]).order_by("seq")
    assert [event.type for event in paused] == ["auction_paused", "auction_resumed"]
    assert paused[1].data["auction"]["ends_at"] == auction.ends_at.isoformat()


def test_viewers_play_with_a_grant_that_a_removal_ends(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    credentials(gql, priya, show)
    stream = gql(STREAM, {"id": gid(show)}, token=ava.token)["data"]["show"]["stream"]
    playback = stream["playback"]
    assert playback["protocol"] == "HLS" and playback["latencyMs"] == 4000
    assert playback["url"] == f"http://127.0.0.1:8112/hls/{playback['token']}/show-{show.pk}/index.m3u8"
    assert gql(STREAM, {"id": gid(show)})["data"]["show"]["stream"]["playback"] is None  # anonymous

    def grant(token, room=f"show-{show.pk}", secret=SECRET):
        headers = {"X-Playback-Token": token, "X-Playback-Room": room}
        return Client(headers=headers).get(f"/media-server/{secret}/playback_grant").status_code

    assert grant(playback["token"]) == 200
    assert grant(playback["token"], secret="guessed") == 403
    assert grant(playback["token"], room=f"show-{show.pk + 1}") == 403
    assert grant(playback["token"][:-2] + "xx") == 403
    services.restrict_viewer(show=show, moderator=priya, viewer=ava, kind="removed")
    assert grant(playback["token"]) == 403


def test_rtmp_playback_takes_the_same_grant(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    credentials(gql, priya, show)
    token = gql(STREAM, {"id": gid(show)}, token=ava.token)["data"]["show"]["stream"]["playback"]["token"]
    assert callback("play", name=f"show-{show.pk}", token=token) == 200
    assert callback("play", name=f"show-{show.pk}", token="forged") == 403


def test_a_list_of_shows_with_their_streams_costs_the_same_queries(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    query = "{ liveShows(first: 100) { edges { node { stream { state } } } } }"

    def grow(count):
        for _ in range(count):
            services.publish_credentials(show=show_of(priya, listings=0), user=priya)

    assert_constant_queries(gql, query, {}, ava.token, grow, path=["liveShows"])


def test_a_private_shows_playback_needs_its_link(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya, is_private=True)
    credentials(gql, priya, show)
    assert gql(STREAM, {"id": gid(show)}, token=ava.token)["data"]["show"] is None
    by_link = (
        """query($id: ID!, $link: String) { show(id: $id, linkToken: $link) { stream { playback { protocol } } } }"""
    )
    answer = gql(by_link, {"id": gid(show), "link": show.link_token}, token=ava.token)["data"]["show"]
    assert answer["stream"]["playback"] == {"protocol": "HLS"}


def test_production_refuses_the_media_server_with_the_development_secret():
    code = "from django.conf import settings; print(settings.LIVE_VIDEO_PROVIDER)"
    refused = start_production_settings(code, MEDIA_SERVER_CALLBACK_SECRET="dev-only-media-server-secret")
    assert refused.returncode != 0 and "MEDIA_SERVER_CALLBACK_SECRET" in refused.stderr
    configured = start_production_settings(code)
    assert configured.stdout.strip() == "live.video.nginx_rtmp.NginxRtmpProvider", configured.stderr
