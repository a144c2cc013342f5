"""showEvents over the real ASGI application: order, catch-up by sequence number, snapshots,
presence, and streams that end (show over, viewer removed)."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from config.realtime import broadcast
from live import events, services
from live.models import Show, ShowEvent
from tests.helpers import gid
from tests.live.helpers import Viewer, line_up_of

pytestmark = pytest.mark.django_db(transaction=True)

FEATURE = """mutation($input: FeatureShowListingInput!) {
  featureShowListing(input: $input) { show { featuredListing { id } } errors { code } } }"""
SEND = """mutation($input: SendShowMessageInput!) {
  sendShowMessage(input: $input) { message { id body } errors { code message } } }"""


@pytest.fixture
def room(member, show_of):
    """Priya's live show with two listings, and three viewers."""
    host = member("priya")
    show = show_of(host)
    return show, host, [member(name) for name in ("ava", "marco", "sam")]


def run(gql, query, token, **input_values):
    return database_sync_to_async(gql)(query, {"input": input_values}, token=token)


async def test_every_viewer_receives_the_featured_items_in_order(gql, room):
    show, host, people = room
    first, second = await database_sync_to_async(line_up_of)(show)
    viewers = [await Viewer.watch(person.token, show) for person in people]
    snapshots = [await viewer.event() for viewer in viewers]
    assert {snapshot["type"] for snapshot in snapshots} == {"SNAPSHOT"}
    start = snapshots[0]["seq"]
    assert snapshots[0]["snapshot"]["state"] == "LIVE"
    assert [item["listingId"] for item in snapshots[0]["snapshot"]["lineUp"]] == [gid(first), gid(second)]

    for listing in (first, second, first):
        body = await run(gql, FEATURE, host.token, showId=gid(show), listingId=gid(listing))
        assert body["data"]["featureShowListing"]["errors"] == []
    body = await run(gql, SEND, host.token, showId=gid(show), body="Who wants it?")
    assert body["data"]["sendShowMessage"]["errors"] == []

    for viewer in viewers:
        received = await viewer.events(4)
        assert [event["seq"] for event in received] == [start + 1, start + 2, start + 3, start + 4]
        assert [event["type"] for event in received] == ["FEATURED"] * 3 + ["MESSAGE"]
        assert [event["item"]["listingId"] for event in received[:3]] == [gid(first), gid(second), gid(first)]
        assert received[0]["item"] | {"seller": None} == {
            "listingId": gid(first),
            "title": "Item 0",
            "status": "AVAILABLE",
            "price": {"amount": "40.00", "currency": "USD"},
            "seller": None,
        }
        assert received[3]["message"]["body"] == "Who wants it?"
        assert received[3]["message"]["author"] == {"username": "priya"}
        await viewer.nothing_more()
        await viewer.close()


async def test_a_viewer_reconnecting_gets_exactly_the_events_it_missed(gql, room):
    show, host, (ava, *_) = room
    first, second = await database_sync_to_async(line_up_of)(show)
    viewer = await Viewer.watch(ava.token, show)
    last_seen = (await viewer.event())["seq"]
    await viewer.close()

    for listing in (first, second):
        await run(gql, FEATURE, host.token, showId=gid(show), listingId=gid(listing))
    for line in ("one", "two", "three"):
        await run(gql, SEND, host.token, showId=gid(show), body=line)

    viewer = await Viewer.watch(ava.token, show, after_seq=last_seen)
    missed = await viewer.events(5)
    assert [event["seq"] for event in missed] == list(range(last_seen + 1, last_seen + 6))
    assert [event["type"] for event in missed] == ["FEATURED", "FEATURED", "MESSAGE", "MESSAGE", "MESSAGE"]
    assert [event["message"]["body"] for event in missed[2:]] == ["one", "two", "three"]
    await viewer.nothing_more()

    await run(gql, SEND, host.token, showId=gid(show), body="live again")
    assert (await viewer.event())["seq"] == last_seen + 6
    await viewer.close()


async def test_a_gap_longer_than_the_kept_window_gets_a_snapshot(gql, room, settings):
    settings.LIVE_REPLAY_MAX_EVENTS = 3
    show, host, (ava, *_) = room
    first, _ = await database_sync_to_async(line_up_of)(show)
    await run(gql, FEATURE, host.token, showId=gid(show), listingId=gid(first))
    for line in ("one", "two", "three", "four"):
        await run(gql, SEND, host.token, showId=gid(show), body=line)
    last_seq = (await database_sync_to_async(Show.objects.get)(pk=show.pk)).last_seq

    viewer = await Viewer.watch(ava.token, show, after_seq=last_seq - 5)
    snapshot = await viewer.event()
    assert snapshot["type"] == "SNAPSHOT" and snapshot["seq"] == last_seq
    assert snapshot["snapshot"]["featured"] == {"listingId": gid(first)}
    assert [line["body"] for line in snapshot["snapshot"]["messages"]] == ["one", "two", "three", "four"]
    await viewer.nothing_more()
    await viewer.close()


async def test_events_older_than_the_kept_age_get_a_snapshot(gql, room, settings):
    show, host, (ava, *_) = room
    await run(gql, SEND, host.token, showId=gid(show), body="long ago")
    last_seq = (await database_sync_to_async(Show.objects.get)(pk=show.pk)).last_seq
    await database_sync_to_async(ShowEvent.objects.filter(seq=last_seq).update)(
        created_at=timezone.now() - settings.LIVE_REPLAY_MAX_AGE - timedelta(seconds=1)
    )

    viewer = await Viewer.watch(ava.token, show, after_seq=last_seq - 1)
    snapshot = await viewer.event()
    assert snapshot["type"] == "SNAPSHOT" and snapshot["seq"] == last_seq
    await viewer.close()


def test_viewers_pouring_in_share_a_snapshot_until_the_room_changes(gql, room, django_assert_num_queries):
    show, host, _ = room
    first = events.catch_up(show.pk, None, now=timezone.now())
    with django_assert_num_queries(1):  # the show's number: the snapshot is the one just made
        assert events.catch_up(show.pk, None, now=timezone.now()) == first
    gql(SEND, {"input": {"showId": gid(show), "body": "New line"}}, token=host.token)
    (fresh,) = events.catch_up(show.pk, None, now=timezone.now())
    assert fresh["seq"] == first[0]["seq"] + 1
    assert [line["body"] for line in fresh["data"]["snapshot"]["messages"]] == ["New line"]


def record_without_broadcast(show, slow_mode_seconds=20):
    """A logged event whose broadcast was lost (a channel layer restarting drops what was in flight)."""
    locked = Show.objects.get(pk=show.pk)
    locked.last_seq += 1
    Show.objects.filter(pk=show.pk).update(last_seq=locked.last_seq)
    return events.as_message(
        ShowEvent.objects.create(
            show=locked, seq=locked.last_seq, type="slow_mode", data={"slow_mode_seconds": slow_mode_seconds}
        )
    )


async def test_late_and_repeated_events_are_sent_once_in_order(room):
    """The seam between catch-up and live events, and a number skipped on the wire: an event
    delivered again is dropped; an event arriving before its predecessor brings it from the log."""
    show, host, (ava, *_) = room
    viewer = await Viewer.watch(ava.token, show)
    start = (await viewer.event())["seq"]

    def record_two_broadcast_second():
        locked = Show.objects.get(pk=show.pk)
        first = events.record(locked, ShowEvent.Type.SLOW_MODE, {"slow_mode_seconds": 5}, now=timezone.now())
        second = events.record(locked, ShowEvent.Type.SLOW_MODE, {"slow_mode_seconds": 9}, now=timezone.now())
        return events.as_message(first), events.as_message(second)

    first, second = await database_sync_to_async(record_two_broadcast_second)()
    group = events.show_group(show.pk)
    # record() broadcast both on commit (autocommit: at once); now a repeat and a late copy.
    await database_sync_to_async(broadcast)(group, second)
    await database_sync_to_async(broadcast)(group, first)
    received = await viewer.events(2)
    assert [(event["seq"], event["slowModeSeconds"]) for event in received] == [(start + 1, 5), (start + 2, 9)]
    await viewer.nothing_more()

    lost = await database_sync_to_async(record_without_broadcast)(show)
    third = await database_sync_to_async(record_two_broadcast_second)()
    assert lost["seq"] == start + 3
    received = await viewer.events(3)
    assert [(event["seq"], event["slowModeSeconds"]) for event in received] == [
        (start + 3, 20),
        (start + 4, 5),
        (start + 5, 9),
    ]
    assert third[1]["seq"] == start + 5
    await viewer.nothing_more()
    await viewer.close()


async def test_a_viewer_hearing_nothing_for_a_while_reads_the_log_for_lost_events(room, settings):
    """With no later event to reveal the gap, the quiet subscription finds it in the log."""
    settings.LIVE_LOG_CHECK_SECONDS = 0.2
    show, host, (ava, *_) = room
    viewer = await Viewer.watch(ava.token, show)
    start = (await viewer.event())["seq"]

    await database_sync_to_async(record_without_broadcast)(show)
    received = await viewer.event()
    assert (received["seq"], received["slowModeSeconds"]) == (start + 1, 20)
    await viewer.nothing_more(0.5)
    await viewer.close()


async def test_viewer_count_is_live_and_carries_the_last_sequence_number(room):
    show, host, (ava, marco, _) = room
    first = await Viewer.watch(ava.token, show)
    snapshot = await first.event()
    assert snapshot["snapshot"]["viewerCount"] == 1
    second = await Viewer.watch(marco.token, show)
    await second.event()

    async def count_seen(viewer, expected):
        while True:
            event = await viewer.event(counts=True)
            if event["type"] == "VIEWER_COUNT":
                assert event["seq"] == snapshot["seq"]
                if event["viewerCount"] == expected:
                    return

    await count_seen(first, 2)
    await second.close()
    await count_seen(first, 1)
    await first.close()


async def test_an_ended_show_ends_the_stream(gql, room):
    show, host, (ava, *_) = room
    viewer = await Viewer.watch(ava.token, show)
    await viewer.event()
    await database_sync_to_async(services.end_show)(show=show, user=host)
    event = await viewer.event()
    assert (event["type"], event["state"]) == ("STATE", "ENDED")
    assert await viewer.message() == {"id": "show", "type": "complete"}
    await viewer.close()


async def test_a_removed_viewer_is_cut_off_and_cannot_come_back(gql, room):
    show, host, (ava, marco, _) = room
    removed, staying = await Viewer.watch(ava.token, show), await Viewer.watch(marco.token, show)
    await removed.event()
    await staying.event()
    body = await database_sync_to_async(gql)(
        "mutation($input: ShowMemberInput!) { removeShowViewer(input: $input) { errors { code } } }",
        {"input": {"showId": gid(show), "userId": gid(ava)}},
        token=host.token,
    )
    assert body["data"]["removeShowViewer"]["errors"] == []
    for viewer in (removed, staying):
        event = await viewer.event()
        assert (event["type"], event["user"]) == ("VIEWER_REMOVED", {"username": "ava"})
    assert await removed.message() == {"id": "show", "type": "complete"}
    await staying.nothing_more()

    again = await Viewer.watch(ava.token, show)
    message = await again.message()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "VIEWER_REMOVED"
    for viewer in (removed, staying, again):
        await viewer.close()


async def test_subscribing_needs_a_login_and_a_visible_show(member, show_of):
    show = await database_sync_to_async(show_of)(await database_sync_to_async(member)("priya"))
    anonymous = await Viewer.watch(None, show)
    message = await anonymous.message()
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await anonymous.close()
