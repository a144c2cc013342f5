"""Timed auctions: price-band increments, typed errors for losing and late bids, anti-sniping,
the winner's order when the timer ends (a task that survives restarts, and a sweep), and bids
serialised in the database."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.db import connection, transaction
from django.utils import timezone

from config.asgi import application
from config.errors import ServiceError
from live import rules, services, tasks
from live.models import Auction, Bid, Show, ShowEvent
from marketplace.models import Listing, Order, ShippingAddress
from notifications.models import Notification
from tests.helpers import gid
from tests.live.helpers import Viewer

START = """mutation($input: StartShowAuctionInput!) { startShowAuction(input: $input) {
  auction { id state durationSeconds startPrice { amount currency } nextMinimumBid { amount } listing { status } }
  errors { field code } } }"""
BID = """mutation($input: PlaceBidInput!) { placeBid(input: $input) {
  bid { amount { amount currency } bidder { username } }
  auction { bidCount currentBid { amount } leader { username } nextMinimumBid { amount } }
  errors { field code message } } }"""
SHOW = """query($id: ID!) { show(id: $id) { featuredListing { title status } currentAuction { id state } } }"""


@pytest.mark.parametrize(
    "price, step",
    [
        ("0", "1"),
        ("29.99", "1"),
        ("30", "2"),
        ("49.99", "2"),
        ("50", "5"),
        ("99.99", "5"),
        ("100", "10"),
        ("299.99", "10"),
        ("300", "20"),
        ("999.99", "20"),
        ("1000", "50"),
        ("25000", "50"),
    ],
)
def test_bid_increments_follow_the_price_bands(price, step):
    assert rules.bid_increment(Decimal(price)) == Decimal(step)


@pytest.fixture
def auction_room(member, show_of, make_buyer):
    """Priya's live show auctioning her 40.00 listing from 10.00 for 30 s, and two bidders."""
    priya = member("priya")
    show = show_of(priya, listings=1)
    bidders = []
    for name in ("ava", "marco"):
        user, token = make_buyer(name)
        user.token = token
        bidders.append(user)
    started = timezone.now()
    auction = services.start_auction(
        show=show,
        user=priya,
        listing=show.line_up.get().listing,
        start_price=Decimal("10.00"),
        duration_seconds=30,
        now=started,
    )
    return auction, priya, bidders


def bid(gql, person, auction, amount):
    body = gql(BID, {"input": {"auctionId": gid(auction), "amount": amount}}, token=person.token)
    return body["data"]["placeBid"]


@pytest.mark.django_db
def test_starting_an_auction_features_and_reserves_the_listing(gql, member, show_of, make_listing):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    first, second = [entry.listing for entry in show.line_up.order_by("position")]

    def start(person, listing, **overrides):
        values = {"showId": gid(show), "listingId": gid(listing), "startPrice": "15.00", "durationSeconds": 30}
        return gql(START, {"input": values | overrides}, token=person.token)["data"]["startShowAuction"]

    assert start(ava, first)["errors"] == [{"field": "showId", "code": "FORBIDDEN"}]
    assert start(priya, first, durationSeconds=601)["errors"] == [{"field": "durationSeconds", "code": "INVALID"}]
    assert start(priya, first, startPrice="0")["errors"] == [{"field": "startPrice", "code": "INVALID_PRICE"}]
    assert start(priya, make_listing(priya))["errors"] == [{"field": "listingId", "code": "LISTING_NOT_IN_SHOW"}]
    payload = start(priya, first)
    assert payload["auction"] == {
        "id": payload["auction"]["id"],
        "state": "RUNNING",
        "durationSeconds": 30,
        "startPrice": {"amount": "15.00", "currency": "USD"},
        "nextMinimumBid": {"amount": "15.00"},
        "listing": {"status": "RESERVED"},
    }
    assert gql(SHOW, {"id": gid(show)})["data"]["show"] == {
        "featuredListing": {"title": "Item 0", "status": "RESERVED"},
        "currentAuction": {"id": payload["auction"]["id"], "state": "RUNNING"},
    }
    assert start(priya, second)["errors"] == [{"field": "listingId", "code": "AUCTION_RUNNING"}]
    with pytest.raises(ServiceError) as running:
        services.feature_listing(show=show, user=priya, listing=second)
    assert running.value.errors[0].code.name == "AUCTION_RUNNING"
    with pytest.raises(ServiceError) as running:
        services.end_show(show=show, user=priya)
    assert running.value.errors[0].code.name == "AUCTION_RUNNING"


@pytest.mark.django_db
def test_a_bid_must_beat_the_high_bid_by_the_band_s_increment(gql, auction_room, member):
    auction, priya, (ava, marco) = auction_room
    placed = bid(gql, ava, auction, "10.00")
    assert placed["bid"] == {"amount": {"amount": "10.00", "currency": "USD"}, "bidder": {"username": "ava"}}
    assert placed["auction"] == {
        "bidCount": 1,
        "currentBid": {"amount": "10.00"},
        "leader": {"username": "ava"},
        "nextMinimumBid": {"amount": "11.00"},
    }
    assert bid(gql, marco, auction, "10.50")["errors"] == [
        {"field": "amount", "code": "BID_TOO_LOW", "message": "Bid at least 11.00 USD."}
    ]
    assert bid(gql, marco, auction, "29.50")["auction"]["nextMinimumBid"] == {"amount": "30.50"}
    assert bid(gql, ava, auction, "30.50")["auction"]["nextMinimumBid"] == {"amount": "32.50"}
    assert bid(gql, ava, auction, "40.00")["errors"][0]["code"] == "ALREADY_HIGHEST_BIDDER"
    assert bid(gql, priya, auction, "40.00")["errors"][0]["code"] == "CANNOT_BUY_OWN_LISTING"
    assert bid(gql, member("lee"), auction, "40.00")["errors"][0]["code"] == "ADDRESS_REQUIRED"
    assert bid(gql, marco, auction, "40.001")["errors"][0]["code"] == "INVALID_PRICE"
    assert Bid.objects.count() == 3


@pytest.mark.django_db
def test_a_late_bid_gets_a_typed_error(auction_room):
    auction, _, (ava, _) = auction_room
    with pytest.raises(ServiceError) as late:
        services.place_bid(auction=auction, bidder=ava, amount=Decimal("10.00"), now=auction.ends_at)
    assert late.value.errors[0].code.name == "AUCTION_ENDED"
    assert not Bid.objects.exists()


@pytest.mark.django_db
def test_a_bid_in_the_last_ten_seconds_resets_the_timer_to_ten_seconds(auction_room):
    auction, _, (ava, marco) = auction_room
    ends_at = auction.ends_at
    services.place_bid(auction=auction, bidder=ava, amount=Decimal("10.00"), now=ends_at - timedelta(seconds=20))
    auction.refresh_from_db()
    assert auction.ends_at == ends_at  # early bids leave the timer alone

    sniped = ends_at - timedelta(seconds=3)
    services.place_bid(auction=auction, bidder=marco, amount=Decimal("11.00"), now=sniped)
    auction.refresh_from_db()
    assert auction.ends_at == sniped + timedelta(seconds=10)

    again = auction.ends_at - timedelta(seconds=1)
    services.place_bid(auction=auction, bidder=ava, amount=Decimal("12.00"), now=again)
    auction.refresh_from_db()
    assert auction.ends_at == again + timedelta(seconds=10)
    types = list(ShowEvent.objects.filter(show=auction.show).order_by("seq").values_list("type", flat=True))
    assert types[-5:] == ["bid", "bid", "auction_extended", "bid", "auction_extended"]

    assert services.close_auction_if_due(auction_id=auction.pk, now=ends_at).state == Auction.State.RUNNING
    with pytest.raises(ServiceError):
        services.place_bid(auction=auction, bidder=marco, amount=Decimal("13.00"), now=auction.ends_at)


@pytest.mark.django_db
def test_the_highest_bid_wins_and_becomes_the_winner_s_order(auction_room, django_capture_on_commit_callbacks):
    auction, priya, (ava, marco) = auction_room
    for bidder, amount in ((ava, "10.00"), (marco, "11.00"), (ava, "14.00")):
        services.place_bid(auction=auction, bidder=bidder, amount=Decimal(amount))
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at)
    assert closed.state == Auction.State.SOLD
    order = Order.objects.get()
    assert (order.buyer, order.seller, order.source, order.item_total) == (ava, priya, "auction", Decimal("14.00"))
    assert closed.order == order
    assert Listing.objects.get(pk=auction.listing_id).status == Listing.Status.SOLD
    assert Notification.objects.get(recipient=ava).title == "You won Item 0"
    assert Notification.objects.filter(recipient=priya, kind="item_sold").exists()
    sold = ShowEvent.objects.get(show=auction.show, type="sold")
    assert sold.data["buyer"]["username"] == "ava" and sold.data["price"] == {"amount": "14.00", "currency": "USD"}

    assert services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at).state == Auction.State.SOLD
    assert Order.objects.count() == 1 and ShowEvent.objects.filter(type="sold").count() == 1


@pytest.mark.django_db
def test_an_auction_without_bids_releases_the_listing(auction_room):
    auction, *_ = auction_room
    assert services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at).state == Auction.State.UNSOLD
    assert Listing.objects.get(pk=auction.listing_id).status == Listing.Status.AVAILABLE
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_win_that_cannot_become_an_order_fails_and_releases_the_listing(
    auction_room, django_capture_on_commit_callbacks
):
    auction, _, (ava, _) = auction_room
    services.place_bid(auction=auction, bidder=ava, amount=Decimal("10.00"))
    ShippingAddress.objects.filter(user=ava).delete()
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at)
    assert (closed.state, closed.failure_reason) == (Auction.State.FAILED, "Add a shipping address first.")
    assert Listing.objects.get(pk=auction.listing_id).status == Listing.Status.AVAILABLE
    assert not Order.objects.exists()
    assert Notification.objects.get(recipient=ava).title == "Your winning bid could not be completed"


@pytest.mark.django_db
def test_the_timer_task_waits_again_after_a_late_bid(
    auction_room, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The Celery timer (LIVE_AUCTION_TIMER = "celery"): armed at the end, re-armed when a late
    bid moved it, closing once due."""
    auction, priya, (ava, _) = auction_room
    settings.LIVE_AUCTION_TIMER = "celery"
    armed = []
    monkeypatch.setattr(tasks.close_auction, "apply_async", lambda args, eta: armed.append((args, eta)))
    services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at)  # the fixture's auction: unsold
    with django_capture_on_commit_callbacks(execute=True):
        auction = services.start_auction(
            show=auction.show, user=priya, listing=auction.listing, start_price=Decimal("5.00"), duration_seconds=60
        )
    assert armed == [((auction.pk,), auction.ends_at)]

    services.place_bid(auction=auction, bidder=ava, amount=Decimal("5.00"))
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() + timedelta(seconds=30))  # extended
    tasks.close_auction(auction.pk)  # the timer fires early: not due, so it waits again
    auction.refresh_from_db()
    assert auction.state == Auction.State.RUNNING and armed[-1] == ((auction.pk,), auction.ends_at)

    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now())
    tasks.close_auction(auction.pk)
    assert Auction.objects.get(pk=auction.pk).state == Auction.State.SOLD
    assert len(armed) == 2


@pytest.mark.django_db
def test_the_sweep_closes_overdue_auctions_and_settles_those_a_crash_left(auction_room, show_of, settings):
    auction, priya, (ava, marco) = auction_room
    services.place_bid(auction=auction, bidder=ava, amount=Decimal("10.00"))
    other_show = show_of(priya, listings=1, title="Second room")
    stuck = services.start_auction(
        show=other_show,
        user=priya,
        listing=other_show.line_up.get().listing,
        start_price=Decimal("10.00"),
        duration_seconds=30,
    )
    services.place_bid(auction=stuck, bidder=marco, amount=Decimal("10.00"))
    crashed_at = stuck.ends_at
    Auction.objects.filter(pk=stuck.pk).update(state=Auction.State.SETTLING, closed_at=crashed_at)

    later = max(auction.ends_at, crashed_at)
    assert services.close_due_auctions(now=later) == 1  # the stuck one waits out its grace period
    assert services.close_due_auctions(now=later + settings.LIVE_AUCTION_SETTLE_GRACE) == 1
    assert sorted(Order.objects.values_list("buyer__username", flat=True)) == ["ava", "marco"]
    assert services.close_due_auctions(now=later + settings.LIVE_AUCTION_SETTLE_GRACE) == 0


@pytest.mark.django_db(transaction=True)
async def test_viewers_see_the_bids_the_extension_and_the_winner_in_order(auction_room):
    auction, _, (ava, marco) = await database_sync_to_async(lambda: auction_room)()
    viewer = await Viewer.watch(ava.token, auction.show)
    snapshot = await viewer.event()
    assert snapshot["snapshot"]["auction"] == {"id": gid(auction)}
    place = database_sync_to_async(services.place_bid)
    await place(auction=auction, bidder=ava, amount=Decimal("10.00"))
    await place(auction=auction, bidder=marco, amount=Decimal("20.00"), now=auction.ends_at - timedelta(seconds=2))
    ends_at = auction.ends_at + timedelta(seconds=8)
    await database_sync_to_async(services.close_auction_if_due)(auction_id=auction.pk, now=ends_at)

    received = await viewer.events(5)
    assert [event["type"] for event in received] == ["BID", "BID", "AUCTION_EXTENDED", "AUCTION_CLOSED", "SOLD"]
    assert [event["seq"] for event in received] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 6))
    assert received[1]["bid"] == {"amount": {"amount": "20.00", "currency": "USD"}, "bidder": {"username": "marco"}}
    assert received[2]["auction"]["endsAt"] == ends_at.isoformat()
    assert received[3]["auction"] | {"endsAt": None, "id": None} == {
        "id": None,
        "state": "SOLD",
        "endsAt": None,
        "pausedAt": None,  # never paused: the stream was up throughout
        "bidCount": 2,
        "currentBid": {"amount": "20.00"},
        "leader": {"username": "marco"},
        "nextMinimumBid": {"amount": "21.00"},
        "item": {"listingId": gid(auction.listing)},
    }
    assert (received[4]["buyer"], received[4]["price"]) == ({"username": "marco"}, {"amount": "20.00"})
    assert received[4]["item"]["status"] == "SOLD"
    await viewer.close()


@pytest.mark.django_db(transaction=True)
async def test_the_embedded_runtime_closes_auctions_on_the_server_s_event_loop(member, show_of, settings):
    """LIVE_AUCTION_TIMER = "in_process" (make run: eager Celery, no worker to hold an eta): the
    request that starts the auction arms a timer on the loop serving it."""
    settings.LIVE_AUCTION_TIMER, settings.LIVE_AUCTION_MIN_SECONDS = "in_process", 1
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya, listings=1)
    listing = await database_sync_to_async(lambda: show.line_up.get().listing)()
    viewer = await Viewer.watch(priya.token, show)
    await viewer.event()
    request = {
        "query": START,
        "variables": {
            "input": {"showId": gid(show), "listingId": gid(listing), "startPrice": "5.00", "durationSeconds": 1}
        },
    }
    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {priya.token}".encode()),
    ]
    response = await HttpCommunicator(
        application, "POST", "/graphql/", body=json.dumps(request).encode(), headers=headers
    ).get_response()
    assert json.loads(response["body"])["data"]["startShowAuction"]["errors"] == []
    assert [(await viewer.event())["type"] for _ in range(2)] == ["FEATURED", "AUCTION_STARTED"]
    closed = await viewer.event(timeout=5)
    assert (closed["type"], closed["auction"]["state"]) == ("AUCTION_CLOSED", "UNSOLD")
    await viewer.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bids_at_the_same_amount_one_is_accepted(member, show_of, make_buyer):
    priya = member("priya")
    show = show_of(priya, listings=1)
    auction = services.start_auction(
        show=show, user=priya, listing=show.line_up.get().listing, start_price=Decimal("25.00"), duration_seconds=60
    )
    bidders = [make_buyer(f"bidder{number}")[0] for number in range(8)]
    start = threading.Barrier(len(bidders))
    outcomes = []

    def place(bidder):
        try:
            start.wait()
            services.place_bid(auction=auction, bidder=bidder, amount=Decimal("25.00"))
            outcomes.append("accepted")
        except ServiceError as error:
            outcomes.append(error.errors[0].code.name)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(bidder,)) for bidder in bidders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["BID_TOO_LOW"] * 7 + ["accepted"]
    auction.refresh_from_db()
    assert auction.bid_count == 1 and Bid.objects.count() == 1
    assert ShowEvent.objects.filter(show=show, type="bid").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bid_already_beaten_is_refused_without_waiting_for_the_busy_room(member, show_of, make_buyer):
    """Another write holds the show's row (a chat line, a bid being recorded): a bid that is too low
    for the auction as it stands gets BID_TOO_LOW at once instead of queueing behind it."""
    priya = member("priya")
    show = show_of(priya, listings=1)
    auction = services.start_auction(
        show=show, user=priya, listing=show.line_up.get().listing, start_price=Decimal("25.00"), duration_seconds=60
    )
    first, late = make_buyer("first")[0], make_buyer("late")[0]
    services.place_bid(auction=auction, bidder=first, amount=Decimal("25.00"))
    holding, release = threading.Event(), threading.Event()

    def hold_the_show_row():
        with transaction.atomic():
            Show.objects.select_for_update().get(pk=show.pk)
            holding.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_the_show_row)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ServiceError) as refused:
            services.place_bid(auction=Auction.objects.get(pk=auction.pk), bidder=late, amount=Decimal("25.00"))
        assert refused.value.errors[0].code.name == "BID_TOO_LOW"
        assert holder.is_alive()  # answered while the row was still held
    finally:
        release.set()
        holder.join(30)
    assert Bid.objects.filter(auction=auction).count() == 1
