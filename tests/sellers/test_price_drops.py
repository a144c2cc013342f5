"""Price drops reach the listing's likers once per drop, through updateListing."""

from datetime import timedelta
from decimal import Decimal

import pytest

from notifications.models import Notification
from sellers.models import PriceDropNotice, SellerToolSettings
from social import services as social_services
from tests.helpers import assert_constant_queries, gid

pytestmark = pytest.mark.django_db

UPDATE = """mutation($input: UpdateListingInput!) {
  updateListing(input: $input) { listing { price { amount } } likersReached errors { field code } } }"""
DROPS = """query($listingId: ID!, $first: Int) { priceDrops(listingId: $listingId, first: $first) {
  edges { node { previousPrice { amount currency } newPrice { amount } likersReached coalesced createdAt } } } }"""


@pytest.fixture
def liked_listing(member, make_listing):
    """A 100.00 listing of `seller` liked by 15 members with a device each."""
    seller = member("seller")
    listing = make_listing(seller, title="Trench coat", price="100.00")
    likers = [member(f"liker{number}") for number in range(15)]
    for liker in likers:
        social_services.like_listing(user=liker, listing=listing)
    return seller, listing, likers


def reprice(api, seller, listing, price):
    return api(UPDATE, {"input": {"listingId": gid(listing), "price": price}}, token=seller.token)["data"][
        "updateListing"
    ]


def price_drop_rows():
    return Notification.objects.filter(kind="price_drop")


def test_fifteen_likers_and_a_ten_percent_drop_give_fifteen_notifications_and_pushes(
    api, liked_listing, member, pushes
):
    seller, listing, likers = liked_listing
    social_services.like_listing(user=seller, listing=listing)  # sellers may like their own listing
    blocked = member("blocked")
    social_services.like_listing(user=blocked, listing=listing)
    social_services.block_user(blocker=seller, blocked=blocked)

    payload = reprice(api, seller, listing, "90.00")

    assert payload == {"listing": {"price": {"amount": "90.00"}}, "likersReached": 15, "errors": []}
    assert sorted(price_drop_rows().values_list("recipient_id", flat=True)) == sorted(liker.pk for liker in likers)
    row = price_drop_rows().first()
    assert (row.title, row.body) == ("Price drop: Trench coat", "Now 90.00 USD (was 100.00 USD).")
    assert row.data["price"] == "90.00" and row.target == listing
    assert sorted(device.user_id for device, _ in pushes.sent) == sorted(liker.pk for liker in likers)
    listing.refresh_from_db()
    assert listing.lowest_notified_price == Decimal("90.00")


def test_likers_who_bought_it_hear_of_no_drop(api, member, make_listing, pushes):
    from marketplace import services as marketplace_services

    seller = member("seller")
    listing = make_listing(seller, title="Basic tee", price="100.00", quantity=3)
    likers = [member(f"liker{number}") for number in range(16)]
    for liker in likers:
        social_services.like_listing(user=liker, listing=listing)
    buyer = likers[0]
    marketplace_services.add_shipping_address(
        user=buyer, recipient_name="Buyer", line1="1 Main St", city="Portland", postal_code="97201", country="US"
    )
    marketplace_services.purchase_listing(buyer=buyer, listing=listing, idempotency_key="tee")

    assert reprice(api, seller, listing, "90.00")["likersReached"] == 15
    assert not price_drop_rows().filter(recipient=buyer).exists() and price_drop_rows().count() == 15


def test_a_smaller_drop_or_a_rise_notifies_nobody(api, liked_listing, pushes):
    seller, listing, _ = liked_listing
    assert reprice(api, seller, listing, "95.00")["likersReached"] is None  # 5% below what they know
    assert reprice(api, seller, listing, "120.00")["likersReached"] is None
    assert reprice(api, seller, listing, "91.00")["likersReached"] is None  # 9% below 100.00
    assert not price_drop_rows().exists() and pushes.sent == []
    # Drops add up against the lowest price the likers were told of, not the last price.
    assert reprice(api, seller, listing, "90.00")["likersReached"] == 15
    assert price_drop_rows().count() == 15


def test_two_drops_within_the_window_leave_one_notification_each_with_the_latest_price(
    api, liked_listing, member, pushes
):
    seller, listing, likers = liked_listing
    reprice(api, seller, listing, "90.00")
    latecomer = member("latecomer")
    social_services.like_listing(user=latecomer, listing=listing)

    assert reprice(api, seller, listing, "80.00")["likersReached"] == 16

    assert price_drop_rows().count() == 16
    assert set(price_drop_rows().values_list("body", flat=True)) == {"Now 80.00 USD (was 100.00 USD)."}
    assert len(pushes.sent) == 16  # one push per liker, the latecomer's included
    assert list(PriceDropNotice.objects.order_by("pk").values_list("window_start", flat=True)) == [
        None,
        PriceDropNotice.objects.earliest("pk").pk,
    ]


def test_a_drop_after_the_window_notifies_again(api, liked_listing, pushes):
    seller, listing, _ = liked_listing
    reprice(api, seller, listing, "90.00")
    window = SellerToolSettings.current().price_drop_window
    PriceDropNotice.objects.update(created_at=PriceDropNotice.objects.get().created_at - window - timedelta(seconds=1))

    assert reprice(api, seller, listing, "81.00")["likersReached"] == 15
    assert price_drop_rows().count() == 30
    assert sorted(set(price_drop_rows().values_list("body", flat=True))) == [
        "Now 81.00 USD (was 90.00 USD).",
        "Now 90.00 USD (was 100.00 USD).",
    ]


def test_a_rise_never_notifies_even_below_what_likers_were_told(api, liked_listing):
    seller, listing, _ = liked_listing
    api(UPDATE, {"input": {"listingId": gid(listing), "status": "DRAFT"}}, token=seller.token)
    reprice(api, seller, listing, "50.00")  # drafts tell nobody
    api(UPDATE, {"input": {"listingId": gid(listing), "status": "AVAILABLE"}}, token=seller.token)
    assert reprice(api, seller, listing, "60.00")["likersReached"] is None  # still 40% below 100.00
    assert not price_drop_rows().exists()


def test_staff_set_the_threshold(api, liked_listing):
    seller, listing, _ = liked_listing
    SellerToolSettings.objects.update_or_create(pk=1, defaults={"price_drop_threshold_percent": Decimal("25")})
    assert reprice(api, seller, listing, "80.00")["likersReached"] is None
    assert reprice(api, seller, listing, "75.00")["likersReached"] == 15


def test_drafts_and_listings_without_likers_notify_nobody(api, member, make_listing):
    seller = member("seller")
    draft = make_listing(seller, price="100.00", publish=False)
    assert reprice(api, seller, draft, "50.00")["likersReached"] is None
    lonely = make_listing(seller, price="100.00")
    assert reprice(api, seller, lonely, "50.00")["likersReached"] == 0
    assert not price_drop_rows().exists()


def test_the_seller_sees_each_drop_and_whom_it_reached(api, gql, liked_listing, member):
    seller, listing, likers = liked_listing
    reprice(api, seller, listing, "90.00")
    reprice(api, seller, listing, "80.00")
    edges = gql(DROPS, {"listingId": gid(listing)}, token=seller.token)["data"]["priceDrops"]["edges"]
    assert [
        (
            edge["node"]["newPrice"]["amount"],
            edge["node"]["previousPrice"]["amount"],
            edge["node"]["likersReached"],
            edge["node"]["coalesced"],
        )
        for edge in edges
    ] == [("80.00", "100.00", 15, True), ("90.00", "100.00", 15, False)]
    refused = gql(DROPS, {"listingId": gid(listing)}, token=likers[0].token)
    assert refused["data"]["priceDrops"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_price_drops_list_runs_a_fixed_number_of_queries(gql, member, make_listing):
    from marketplace import services as marketplace_services

    seller = member("seller")
    listing = make_listing(seller, price="99999.00")

    def grow(count):
        for _ in range(count):
            current = type(listing).objects.get(pk=listing.pk)
            marketplace_services.update_listing(
                listing=current, price=(current.price * Decimal("0.8")).quantize(Decimal("0.01"))
            )

    assert_constant_queries(
        gql, DROPS, {"listingId": gid(listing), "first": 100}, seller.token, grow, path=["priceDrops"]
    )
