"""Buy-now of the featured listing through the orders path."""

from decimal import Decimal

import pytest
from django.utils import timezone

from live import services
from live.models import ShowEvent, ShowRestriction
from marketplace.models import Listing, Order
from tests.helpers import gid

pytestmark = pytest.mark.django_db

BUY = """mutation($input: BuyShowListingInput!) { buyShowListing(input: $input) {
  orderId order { total { amount } buyer { username } } show { featuredListing { title } } errors { field code } } }"""


@pytest.fixture
def featured(member, show_of, make_buyer):
    priya = member("priya")
    show = show_of(priya)
    listing = show.line_up.order_by("position").first().listing
    services.feature_listing(show=show, user=priya, listing=listing)
    buyer, token = make_buyer("ava")
    buyer.token = token
    return show, priya, listing, buyer


def buy(gql, person, show, listing, key="buy-now-key-1"):
    values = {"showId": gid(show), "listingId": gid(listing), "idempotencyKey": key}
    return gql(BUY, {"input": values}, token=person.token)["data"]["buyShowListing"]


def test_buying_the_featured_listing_makes_an_order_and_tells_the_room_once(gql, featured):
    show, priya, listing, ava = featured
    payload = buy(gql, ava, show, listing)
    order = Order.objects.get()
    assert payload == {
        "orderId": gid(order),
        "order": {"total": {"amount": str(order.total)}, "buyer": {"username": "ava"}},
        "show": {"featuredListing": None},
        "errors": [],
    }
    assert (order.buyer, order.seller, order.source, order.item_total) == (ava, priya, "live_buy_now", Decimal("40.00"))
    assert Listing.objects.get(pk=listing.pk).status == Listing.Status.SOLD
    sold = ShowEvent.objects.get(show=show, type="sold")
    assert sold.data["item"]["listing_id"] == gid(listing) and sold.data["buyer"]["username"] == "ava"

    assert buy(gql, ava, show, listing)["orderId"] == gid(order)  # a retry: the same order, no news
    assert Order.objects.count() == 1 and ShowEvent.objects.filter(type="sold").count() == 1
    assert buy(gql, ava, show, listing, key="buy-now-key-2")["errors"][0]["code"] == "SOLD_OUT"


def test_only_the_featured_listing_of_a_live_show_can_be_bought(gql, featured):
    show, priya, listing, ava = featured
    other = show.line_up.order_by("position").last().listing
    assert buy(gql, ava, show, other)["errors"] == [{"field": "listingId", "code": "LISTING_NOT_FEATURED"}]
    services.feature_listing(show=show, user=priya, listing=None)
    services.start_auction(show=show, user=priya, listing=listing, start_price=Decimal("5.00"), duration_seconds=30)
    assert buy(gql, ava, show, listing)["errors"] == [{"field": "listingId", "code": "AUCTION_RUNNING"}]
    assert not Order.objects.exists()


def test_removed_viewers_and_buyers_without_an_address_cannot_buy(gql, featured, member):
    show, priya, listing, ava = featured
    lee = member("lee")
    assert buy(gql, lee, show, listing)["errors"] == [{"field": "shippingAddressId", "code": "ADDRESS_REQUIRED"}]
    services.restrict_viewer(
        show=show, moderator=priya, viewer=ava, kind=ShowRestriction.Kind.REMOVED, now=timezone.now()
    )
    assert buy(gql, ava, show, listing)["errors"] == [{"field": "showId", "code": "VIEWER_REMOVED"}]
    services.end_show(show=show, user=priya)
    assert buy(gql, ava, show, listing)["errors"] == [{"field": "showId", "code": "SHOW_NOT_LIVE"}]
    assert not Order.objects.exists()


@pytest.mark.parametrize("key", ["auction:1", "short", "x" * 101])
def test_client_keys_are_checked_so_they_never_collide_with_the_servers_own(gql, featured, key):
    show, _, listing, ava = featured
    assert buy(gql, ava, show, listing, key=key)["errors"] == [{"field": "idempotencyKey", "code": "INVALID"}]
    assert not Order.objects.exists()
