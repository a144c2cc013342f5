"""Writes while Redis (rate-limit windows, channel layer, Celery broker) is out of reach: the
write is done and said so. Before, the rate limit's cache error became `Internal server error.`,
and so did a broadcast or a task enqueued after commit: the client was told of a failure for a
change that was made, and a retry made it twice. Redis here is a loopback port nobody listens on.
"""

from contextlib import contextmanager

import pytest
from django.test import override_settings
from django.utils import timezone

from config.celery import app
from live import events
from live.models import Auction, ShowMessage
from tests.helpers import gid
from tests.live.helpers import line_up_of
from tests.processes import free_port, use_broker

SEND = """mutation($input: SendShowMessageInput!) {
  sendShowMessage(input: $input) { message { body } errors { field code message } } }"""


START_AUCTION = """mutation($input: StartShowAuctionInput!) {
  startShowAuction(input: $input) { auction { state } errors { field code message } } }"""


@contextmanager
def unreachable_redis():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}},
        CHANNEL_LAYERS={
            "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [url]}}
        },
    ):
        yield url


@pytest.fixture
def unreachable_broker():
    """Tasks are enqueued (not run in process) to a broker nobody listens on."""
    shared_url = app.conf.broker_url
    use_broker(f"redis://127.0.0.1:{free_port()}/0")
    app.conf.task_always_eager = False
    yield
    use_broker(shared_url)


def test_a_chat_message_sent_while_redis_is_out_of_reach_is_posted_once_and_reported_done(api, member, show_of):
    host = member("priya")
    show = show_of(host)

    with unreachable_redis():
        body = api(SEND, {"input": {"showId": gid(show), "body": "Still live?"}}, token=host.token)

    assert body == {"data": {"sendShowMessage": {"message": {"body": "Still live?"}, "errors": []}}}
    assert list(ShowMessage.objects.filter(show=show).values_list("body", flat=True)) == ["Still live?"]


def test_an_auction_started_while_the_broker_is_out_of_reach_runs_and_says_so(
    api, member, show_of, settings, unreachable_broker
):
    """Its timer task is lost; beat's close_due_auctions closes it when due."""
    settings.LIVE_AUCTION_TIMER = "celery"
    host = member("priya")
    show = show_of(host)
    listing = line_up_of(show)[0]

    with unreachable_redis():
        body = api(
            START_AUCTION,
            {"input": {"showId": gid(show), "listingId": gid(listing), "startPrice": "20.00", "durationSeconds": 30}},
            token=host.token,
        )

    assert body == {"data": {"startShowAuction": {"auction": {"state": "RUNNING"}, "errors": []}}}
    assert Auction.objects.filter(show=show, listing=listing, state=Auction.State.RUNNING).count() == 1


def test_a_room_snapshot_is_made_while_the_cache_is_out_of_reach(member, show_of):
    """Snapshots are shared through the cache; without it, each is made on its own."""
    show = show_of(member("priya"))
    with unreachable_redis():
        (made,) = events.catch_up(show.pk, None, now=timezone.now())
    assert (made["type"], made["seq"], made["data"]["snapshot"]["state"]) == ("snapshot", show.last_seq, "live")
