"""Replays: when a show ends its recordings (FLV files of the media server, or a provider's file
URL) become one MP4 in media storage (ffmpeg), playable through a signed link by whoever could
watch the show, with chapters of what was featured and sold and where, listed on the host's
profile in a fixed number of queries."""

import json
import subprocess
import threading
import uuid
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from livekit import api as lk

from live import recordings as recordings_module
from live import services
from live.models import Replay, ReplayChapter, Show, ShowEvent, ShowRestriction
from live.services.replays import add_recording
from live.video.base import SignalKind, StreamSignal
from live.video.livekit import room_name
from marketplace.models import Listing
from tests.helpers import gid
from tests.processes import free_port

pytestmark = pytest.mark.django_db

REPLAY = """query($showId: ID!, $linkToken: String) { showReplay(showId: $showId, linkToken: $linkToken) {
  showId title host { username } durationSeconds url urlExpiresAt startedAt endedAt
  chapters { offsetSeconds featuredAt soldInShow listing { id title status } } } }"""
PURCHASE = (
    """mutation($input: PurchaseListingInput!) { purchaseListing(input: $input) { errors { field code message } } }"""
)
HOST_REPLAYS = """query($hostId: ID!, $first: Int) { hostReplays(hostId: $hostId, first: $first) {
  edges { node { title host { username } url durationSeconds
                 chapters { offsetSeconds soldInShow listing { title status seller { username } } } } } } }"""


def _flv(path, seconds=2):
    """A generated test pattern with a tone, H.264 and AAC in FLV, as nginx-rtmp records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={seconds}:size=320x240:rate=25",
        ]
        + ["-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]
        + ["-f", "flv", str(path)],
        check=True,
        timeout=60,
    )
    return str(path)


def _probe(path):
    answer = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout)["format"]


@pytest.fixture
def recordings(settings, tmp_path):
    settings.MEDIA_SERVER_DIR = tmp_path / "media-server"
    return settings.MEDIA_SERVER_DIR / "recordings"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service as a committed request would: its on-commit work (the build task) runs."""

    def call(function, **arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**arguments)

    return call


def _signal(kind, show, at, **fields):
    return StreamSignal(kind, show.pk, at, **fields)


def _streamed_show(livekit, member, show_of, make_buyer, run, recordings):
    """A show whose host streamed, dropped for 6 seconds and came back; item 0 featured 5 s in,
    item 1 20 s in (14 s into the recording) and bought; two recordings; then the show ends."""
    host = member("ava")
    show = show_of(host)
    first, second = (entry.listing for entry in show.line_up.order_by("position"))
    services.publish_credentials(show=show, user=host)
    t0 = timezone.now() - timedelta(minutes=5)
    start = partial(_signal, SignalKind.PUBLISH_STARTED, show, publisher_id=host.pk, session_id="PA_1")
    run(services.apply_signal, signal=start(t0))
    run(services.feature_listing, show=show, user=host, listing=first, now=t0 + timedelta(seconds=5))
    ended = _signal(SignalKind.PUBLISH_ENDED, show, t0 + timedelta(seconds=10), publisher_id=host.pk, session_id="PA_1")
    run(services.apply_signal, signal=ended)
    run(services.apply_signal, signal=start(t0 + timedelta(seconds=16)))
    run(services.feature_listing, show=show, user=host, listing=second, now=t0 + timedelta(seconds=20))
    buyer, _ = make_buyer("marco")
    show.refresh_from_db()
    run(services.buy_featured_listing, show=show, buyer=buyer, listing=second, idempotency_key="replay-test-1")
    for number in (1, 2):
        part = _flv(recordings / f"{room_name(show.pk)}-{number}.flv")
        run(services.apply_signal, signal=_signal(SignalKind.RECORDING_READY, show, timezone.now(), recording=part))
    assert not Replay.objects.get(show=show).ready  # recordings wait for the show's end
    run(services.end_show, show=show, user=host)
    return show, host, first, second


def test_the_recordings_become_a_playable_mp4_replay_with_chapters(
    livekit, member, show_of, make_buyer, run, recordings, gql, tmp_path
):
    show, host, first, second = _streamed_show(livekit, member, show_of, make_buyer, run, recordings)
    replay = gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]
    assert replay["title"] == show.title and replay["host"] == {"username": "ava"}
    assert replay["durationSeconds"] == pytest.approx(4, abs=0.5)  # both parts, one after the other
    assert [(c["listing"]["title"], c["soldInShow"], c["listing"]["status"]) for c in replay["chapters"]] == [
        (first.title, False, "AVAILABLE"),
        (second.title, True, "SOLD"),
    ]
    assert [chapter["offsetSeconds"] for chapter in replay["chapters"]] == [5.0, 14.0]  # the 6 s down left out

    path = urlsplit(replay["url"]).path
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    played = tmp_path / "played.mp4"
    played.write_bytes(b"".join(response.streaming_content))
    assert "mp4" in _probe(played)["format_name"].split(",")
    assert float(_probe(played)["duration"]) == pytest.approx(4, abs=0.5)
    # the index comes first (+faststart): a player starts before the whole file arrives
    assert played.read_bytes().find(b"moov") < played.read_bytes().find(b"mdat")

    # a replay viewer buys what is still available, as from any listing
    buyer, buyer_token = make_buyer("sam")
    bought = gql(
        PURCHASE,
        {"input": {"listingId": replay["chapters"][0]["listing"]["id"], "idempotencyKey": str(uuid.uuid4())}},
        token=buyer_token,
    )
    assert bought["data"]["purchaseListing"]["errors"] == []
    after = gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]["chapters"]
    assert [chapter["listing"]["status"] for chapter in after] == ["SOLD", "SOLD"]

    ranged = Client().get(path, HTTP_RANGE="bytes=0-99")
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes 0-99/{played.stat().st_size}"
    assert b"".join(ranged.streaming_content) == played.read_bytes()[:100]
    assert Client().get(path, HTTP_RANGE=f"bytes={played.stat().st_size}-").status_code == 416


def test_a_recording_reported_after_the_end_remakes_the_replay_with_it(
    livekit, member, show_of, make_buyer, run, recordings
):
    show, *_ = _streamed_show(livekit, member, show_of, make_buyer, run, recordings)
    first_file = Replay.objects.get(show=show).file
    late = _flv(recordings / "late.flv", seconds=1)
    run(services.apply_signal, signal=_signal(SignalKind.RECORDING_READY, show, timezone.now(), recording=late))
    replay = Replay.objects.get(show=show)
    assert replay.ready and replay.file != first_file and replay.duration_seconds == pytest.approx(5, abs=0.5)
    assert len(replay.recordings) == 3 and ReplayChapter.objects.filter(replay=replay).count() == 2


def test_a_recording_outside_the_recordings_folder_is_refused(livekit, member, show_of, run, recordings, tmp_path):
    host = member("ava")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    stray = _flv(tmp_path / "elsewhere" / "x.flv", seconds=1)
    for recording in (
        stray,
        str(recordings / ".." / ".." / "elsewhere" / "x.flv"),
        "file:///etc/passwd",
        "-i",
        f"{recordings}/a\nfile '/etc/passwd'",
    ):
        run(
            services.apply_signal, signal=_signal(SignalKind.RECORDING_READY, show, timezone.now(), recording=recording)
        )
    run(services.end_show, show=show, user=host)
    assert not Replay.objects.filter(show=show).exists()


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_providers_egress_file_becomes_the_replay(
    livekit, member, show_of, run, tmp_path, gql, django_capture_on_commit_callbacks
):
    """LiveKit's egress reports its MP4 at a URL (egress_ended, signed): the replay is fetched
    from it into media storage once the show has ended."""
    served = tmp_path / "egress"
    _flv(served / "show.flv")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(served / "show.flv"), "-c", "copy", str(served / "show.mp4")], check=True
    )
    files = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(_Files, directory=str(served)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        host = member("ava")
        show = show_of(host)
        services.publish_credentials(show=show, user=host)
        url = f"http://127.0.0.1:{files.server_port}/show.mp4"
        event = lk.WebhookEvent(
            event="egress_ended",
            id="EV_egress",
            created_at=int(timezone.now().timestamp()),
            egress_info=lk.EgressInfo(
                egress_id="EG_1",
                room_name=room_name(show.pk),
                status=lk.EGRESS_COMPLETE,
                file_results=[lk.FileInfo(filename="show.mp4", location=url)],
            ),
        )
        run(services.end_show, show=show, user=host)
        body, token = livekit.webhook(event)
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                "/webhooks/livekit/", body, content_type="application/webhook+json", HTTP_AUTHORIZATION=token
            )
        assert response.status_code == 200
    finally:
        files.shutdown()
        files.server_close()
    replay = gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]
    assert replay["durationSeconds"] == pytest.approx(2, abs=0.5)
    assert Client().get(urlsplit(replay["url"]).path).status_code == 200


def _ready_replay(show, listings):
    replay = Replay.objects.create(
        show=show, recordings=["x"], file="replays/x.mp4", ready=True, ready_at=timezone.now()
    )
    for number, listing in enumerate(listings):
        ReplayChapter.objects.create(
            replay=replay, listing=listing, offset_seconds=number * 10, featured_at=timezone.now()
        )
    return replay


def test_who_may_watch_the_replay_is_who_could_watch_the_show(member, show_of, gql):
    host, saver, stranger, removed = member("ava"), member("priya"), member("sam"), member("marco")
    public = show_of(host, title="Open night")
    private = show_of(host, title="Friends only", is_private=True)
    services.save_show(user=saver, show=private)
    for show in (public, private):
        services.end_show(show=show, user=host)
        _ready_replay(show, [entry.listing for entry in show.line_up.all()])
    ShowRestriction.objects.create(show=public, user=removed, kind=ShowRestriction.Kind.REMOVED)

    def replay_of(show, person=None, link_token=None):
        answer = gql(REPLAY, {"showId": gid(show), "linkToken": link_token}, token=person.token if person else None)
        return answer["data"]["showReplay"]

    def listed(person=None):
        answer = gql(HOST_REPLAYS, {"hostId": gid(host)}, token=person.token if person else None)
        return [edge["node"]["title"] for edge in answer["data"]["hostReplays"]["edges"]]

    assert replay_of(public)["title"] == "Open night" and replay_of(private) is None
    assert replay_of(private, stranger) is None and replay_of(private, stranger, "wrong") is None
    assert replay_of(private, stranger, private.link_token)["title"] == "Friends only"
    assert replay_of(private, None, private.link_token)["title"] == "Friends only"
    assert replay_of(public, removed) is None and "Open night" not in listed(removed)
    assert sorted(listed(host)) == sorted(listed(saver)) == ["Friends only", "Open night"]
    assert listed(stranger) == listed() == ["Open night"]


def test_a_replay_link_works_only_signed_and_unexpired(
    livekit, member, show_of, make_buyer, run, recordings, gql, settings
):
    show, *_ = _streamed_show(livekit, member, show_of, make_buyer, run, recordings)
    path = urlsplit(gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]["url"]).path
    assert Client().get(path.rstrip("/") + "x/").status_code == 404
    assert Client().get("/live/replays/not-signed/").status_code == 404
    assert Client().post(path).status_code == 405
    settings.LIVE_REPLAY_URL_LIFETIME = timedelta(0)
    assert Client().get(path).status_code == 404


def test_the_log_keeps_what_chapters_are_made_of_until_the_replay_can_be_built(member, show_of, settings):
    host = member("ava")
    show = show_of(host)
    listing = show.line_up.first().listing
    long_ago = timezone.now() - timedelta(hours=3)
    services.feature_listing(show=show, user=host, listing=listing, now=long_ago)
    services.send_message(show=show, author=host, body="hello", now=long_ago)
    services.prune_events(now=timezone.now())
    assert list(ShowEvent.objects.filter(show=show, created_at=long_ago).values_list("type", flat=True)) == ["featured"]
    services.end_show(show=show, user=host)
    services.prune_events(now=timezone.now() + settings.LIVE_REPLAY_CHAPTERS_KEPT + timedelta(hours=1))
    assert not ShowEvent.objects.filter(show=show, created_at=long_ago).exists()


def test_host_replays_take_the_same_queries_for_2_and_6_replays(member, show_of, gql, make_listing):
    host, viewer = member("ava"), member("sam")

    def add_replays(count):
        for _ in range(count):
            show = show_of(host, listings=3)
            services.end_show(show=show, user=host)
            _ready_replay(show, Listing.objects.filter(show_entries__show=show))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            answer = gql(HOST_REPLAYS, {"hostId": gid(host), "first": 50}, token=viewer.token)
        assert "errors" not in answer, answer
        return len(captured), len(answer["data"]["hostReplays"]["edges"])

    add_replays(2)
    queries()  # the token's first use records itself
    few = queries()
    add_replays(4)
    many = queries()
    assert (few[1], many[1]) == (2, 6) and few[0] == many[0]


def test_the_media_servers_recording_becomes_the_replay(member, show_of, run, recordings, settings, gql):
    """The default provider: nginx-rtmp's recorder reports its FLV file (on_record_done); the
    show's end makes it the replay."""
    host = member("ava")
    show = show_of(host)
    services.publish_credentials(show=show, user=host)
    flv = _flv(recordings / f"{room_name(show.pk)}-1733600000.flv")
    callback = f"/media-server/{settings.MEDIA_SERVER_CALLBACK_SECRET}/on_record_done"
    form = {"call": "record_done", "app": "live", "name": room_name(show.pk), "path": flv}
    with_wrong_secret = Client().post(callback.replace(settings.MEDIA_SERVER_CALLBACK_SECRET, "guess"), form)
    assert with_wrong_secret.status_code == 403 and not Replay.objects.filter(show=show).exists()
    assert Client().post(callback, form).status_code == 200
    run(services.end_show, show=show, user=host)
    replay = gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]
    assert replay["durationSeconds"] == pytest.approx(2, abs=0.5)
    assert Client().get(urlsplit(replay["url"]).path).status_code == 200


def _ended_show_with_recordings(member, show_of, recordings, count=1):
    host = member("ava")
    show = show_of(host)
    services.end_show(show=show, user=host)  # no stream: nothing to build yet
    parts = [_flv(recordings / f"part-{number}.flv", seconds=1) for number in range(count)]
    Replay.objects.create(show=show, recordings=parts)
    return show


def test_a_recording_arriving_during_a_build_is_in_the_replay(member, show_of, recordings, monkeypatch, run):
    show = _ended_show_with_recordings(member, show_of, recordings)
    late = _flv(recordings / "late.flv", seconds=1)
    remux = recordings_module.remux
    calls = []

    def remux_while_a_recording_arrives(parts, into):
        calls.append(list(parts))
        if len(calls) == 1:  # the provider reports another recording while the first build runs
            with transaction.atomic():
                add_recording(Show.objects.select_for_update().get(pk=show.pk), late)
        return remux(parts, into)

    monkeypatch.setattr(recordings_module, "remux", remux_while_a_recording_arrives)
    run(services.build_replay, show_id=show.pk)
    replay = Replay.objects.get(show=show)
    assert [len(parts) for parts in calls] == [1, 2]
    assert replay.ready and replay.duration_seconds == pytest.approx(2, abs=0.5)
    assert _stored_replays() == [replay.file.removeprefix("replays/")]


def test_a_recording_ffmpeg_cannot_read_leaves_no_replay_and_no_file(member, show_of, recordings, run):
    show = _ended_show_with_recordings(member, show_of, recordings)
    broken = recordings / "broken.flv"
    broken.write_bytes(b"FLV but not really")
    Replay.objects.filter(show=show).update(recordings=[str(broken)])
    run(services.build_replay, show_id=show.pk)
    assert not Replay.objects.get(show=show).ready and _stored_replays() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_builds_settle_on_one_replay_file(member, show_of, recordings):
    show = _ended_show_with_recordings(member, show_of, recordings, count=2)
    start = threading.Barrier(3)
    failures = []

    def build():
        try:
            start.wait(timeout=10)
            services.build_replay(show_id=show.pk)
        except Exception as error:  # reported below, with the thread's error
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    replay = Replay.objects.get(show=show)
    assert replay.ready and _stored_replays() == [replay.file.removeprefix("replays/")]


def _stored_replays():
    return default_storage.listdir("replays")[1] if default_storage.exists("replays") else []


def test_staff_see_replays_and_build_one_again(member, show_of, recordings, client, django_user_model):
    show = _ended_show_with_recordings(member, show_of, recordings)
    replay = Replay.objects.get(show=show)
    staff = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client.force_login(staff)
    assert client.get("/admin/live/replay/").status_code == 200
    assert client.get(f"/admin/live/replay/{replay.pk}/change/").status_code == 200
    client.post("/admin/live/replay/", {"action": "build_again", "_selected_action": [replay.pk]})
    replay.refresh_from_db()
    assert replay.ready and _stored_replays() == [replay.file.removeprefix("replays/")]


def test_a_day_after_the_show_the_media_servers_recordings_are_let_go(
    livekit, member, show_of, make_buyer, run, recordings, settings, gql
):
    show, *_ = _streamed_show(livekit, member, show_of, make_buyer, run, recordings)
    parts = Replay.objects.get(show=show).recordings
    assert services.forget_recordings(now=timezone.now()) == 0  # a late part may still come
    later = timezone.now() + settings.LIVE_REPLAY_CHAPTERS_KEPT + timedelta(minutes=1)
    assert services.forget_recordings(now=later) == 1
    assert not any(Path(part).exists() for part in parts) and Replay.objects.get(show=show).recordings == []
    replay = gql(REPLAY, {"showId": gid(show)})["data"]["showReplay"]
    assert Client().get(urlsplit(replay["url"]).path).status_code == 200  # the MP4 stays
