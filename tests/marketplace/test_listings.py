"""Creating, editing and removing listings, through the API."""

from decimal import Decimal

import pytest
from graphql_relay import to_global_id

from marketplace.models import Listing, ListingPriceChange
from tests.helpers import gid

pytestmark = pytest.mark.django_db

CREATE = """mutation($input: CreateListingInput!) {
  createListing(input: $input) {
    listing { id title brand size condition status quantity price { amount currency } originalPrice { amount currency }
              category { path } seller { username } likeCount viewerHasLiked images { id } coverImage { id } }
    errors { field code message }
  }
}"""
UPDATE = """mutation($input: UpdateListingInput!) {
  updateListing(input: $input) { listing { title status price { amount currency } } errors { field code } }
}"""
REMOVE = "mutation($input: ListingIdInput!) { removeListing(input: $input) { removedListingId errors { field code } } }"
LISTING = "query($id: ID!) { listing(id: $id) { title status price { amount } } }"


def create(gql, token, category, **overrides):
    data = {
        "title": " Silk wrap dress ",
        "categoryId": gid(category),
        "price": "48.00",
        "brand": "Reformation",
        "size": "M",
        "condition": "LIKE_NEW",
    } | overrides
    return gql(CREATE, {"input": data}, token=token)["data"]["createListing"]


def test_create_listing_returns_the_card(gql, make_user, category):
    _, token = make_user("ava")
    payload = create(gql, token, category, originalPrice="120", currency="eur")
    assert payload["errors"] == []
    assert payload["listing"] | {"id": None} == {
        "id": None,
        "title": "Silk wrap dress",
        "brand": "Reformation",
        "size": "M",
        "condition": "LIKE_NEW",
        "status": "AVAILABLE",
        "quantity": 1,
        "price": {"amount": "48.00", "currency": "EUR"},
        "originalPrice": {"amount": "120.00", "currency": "EUR"},
        "category": {"path": "women/dresses"},
        "seller": {"username": "ava"},
        "likeCount": 0,
        "viewerHasLiked": False,
        "images": [],
        "coverImage": None,
    }
    listing = Listing.objects.get()
    assert listing.lowest_notified_price == Decimal("48.00")  # what likers have been shown so far


def test_anonymous_cannot_create(gql, category):
    payload = gql(CREATE, {"input": {"title": "x", "categoryId": gid(category), "price": "5"}})["data"]["createListing"]
    assert payload == {
        "listing": None,
        "errors": [{"field": None, "code": "UNAUTHENTICATED", "message": "You need to log in first."}],
    }


@pytest.mark.parametrize(
    "overrides, field, code",
    [
        ({"price": "0"}, "price", "INVALID_PRICE"),
        ({"price": "-5"}, "price", "INVALID_PRICE"),
        ({"price": "12.345"}, "price", "INVALID_PRICE"),
        ({"price": "100000000"}, "price", "INVALID_PRICE"),
        ({"price": "NaN"}, "price", "INVALID_PRICE"),
        ({"originalPrice": "-1"}, "originalPrice", "INVALID_PRICE"),
        ({"currency": "XYZ"}, "currency", "INVALID_CURRENCY"),
        ({"title": "x" * 81}, "title", "INVALID"),
        ({"title": "   "}, "title", "REQUIRED"),
        ({"brand": "b" * 61}, "brand", "INVALID"),
        ({"description": "d" * 2001}, "description", "INVALID"),
        ({"quantity": 0}, "quantity", "INVALID"),
        ({"categoryId": to_global_id("User", 1)}, "categoryId", "INVALID"),
        ({"categoryId": to_global_id("Category", 99999)}, "categoryId", "NOT_FOUND"),
        ({"categoryId": "garbage"}, "categoryId", "INVALID"),
    ],
)
def test_bad_input_is_a_typed_error_and_creates_nothing(gql, make_user, category, overrides, field, code):
    _, token = make_user("ava")
    payload = create(gql, token, category, **overrides)
    assert payload["listing"] is None
    assert (field, code) in {(error["field"], error["code"]) for error in payload["errors"]}
    assert not Listing.objects.exists()


def test_draft_is_seen_by_its_seller_only(gql, make_user, category):
    _, ava = make_user("ava")
    _, marco = make_user("marco")
    listing_id = create(gql, ava, category, draft=True)["listing"]["id"]
    assert gql(LISTING, {"id": listing_id}, token=ava)["data"]["listing"]["status"] == "DRAFT"
    assert gql(LISTING, {"id": listing_id}, token=marco)["data"]["listing"] is None
    assert gql(LISTING, {"id": listing_id})["data"]["listing"] is None
    assert Listing.objects.get().lowest_notified_price is None
    published = gql(UPDATE, {"input": {"listingId": listing_id, "status": "AVAILABLE"}}, token=ava)
    assert published["data"]["updateListing"]["listing"]["status"] == "AVAILABLE"
    assert gql(LISTING, {"id": listing_id}, token=marco)["data"]["listing"]["status"] == "AVAILABLE"
    assert Listing.objects.get().lowest_notified_price == Decimal("48.00")


def test_price_changes_are_kept_in_history(gql, make_user, category):
    _, token = make_user("ava")
    listing_id = create(gql, token, category)["listing"]["id"]
    for price in ("40", "40.00", "44.50"):
        payload = gql(UPDATE, {"input": {"listingId": listing_id, "price": price}}, token=token)["data"][
            "updateListing"
        ]
        assert payload["errors"] == []
    assert payload["listing"]["price"] == {"amount": "44.50", "currency": "USD"}
    history = list(ListingPriceChange.objects.order_by("pk").values_list("old_price", "new_price"))
    assert history == [(Decimal("48.00"), Decimal("40.00")), (Decimal("40.00"), Decimal("44.50"))]
    # A drop of at least the threshold (sellers.services.on_price_change) lowers what likers know of.
    assert Listing.objects.get().lowest_notified_price == Decimal("40.00")


def test_only_the_seller_can_update_or_remove(gql, make_user, category):
    _, ava = make_user("ava")
    _, marco = make_user("marco")
    listing_id = create(gql, ava, category)["listing"]["id"]
    update = gql(UPDATE, {"input": {"listingId": listing_id, "title": "Mine now"}}, token=marco)["data"]
    assert update["updateListing"]["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    remove = gql(REMOVE, {"input": {"listingId": listing_id}}, token=marco)["data"]["removeListing"]
    assert remove["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    assert Listing.objects.get().title == "Silk wrap dress"
    assert Listing.objects.get().status == Listing.Status.AVAILABLE


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"price": "-1"}, "price", "INVALID_PRICE"),
        ({"currency": "GBP"}, "currency", "INVALID_CURRENCY"),
        ({"status": "SOLD"}, "status", "INVALID"),
        ({"title": ""}, "title", "REQUIRED"),
        ({"listingId": to_global_id("Category", 1)}, "listingId", "INVALID"),
        ({"listingId": to_global_id("Listing", 999)}, "listingId", "NOT_FOUND"),
    ],
)
def test_bad_updates_change_nothing(gql, make_user, category, changes, field, code):
    _, token = make_user("ava")
    listing_id = create(gql, token, category)["listing"]["id"]
    payload = gql(UPDATE, {"input": {"listingId": listing_id, "title": "Changed"} | changes}, token=token)
    assert payload["data"]["updateListing"]["errors"] == [{"field": field, "code": code}]
    listing = Listing.objects.get()
    assert (listing.title, listing.price, listing.status) == ("Silk wrap dress", Decimal("48.00"), "available")
    assert not ListingPriceChange.objects.exists()


def test_removed_listing_disappears_and_cannot_change(gql, make_user, category):
    _, token = make_user("ava")
    listing_id = create(gql, token, category)["listing"]["id"]
    payload = gql(REMOVE, {"input": {"listingId": listing_id}}, token=token)["data"]["removeListing"]
    assert payload == {"removedListingId": listing_id, "errors": []}
    assert gql(LISTING, {"id": listing_id}, token=token)["data"]["listing"] is None
    again = gql(UPDATE, {"input": {"listingId": listing_id, "price": "1"}}, token=token)["data"]["updateListing"]
    assert again["errors"] == [{"field": "listingId", "code": "NOT_FOUND"}]


def test_sold_listing_is_shown_to_anyone_but_cannot_change(gql, make_user, category, make_listing):
    ava, token = make_user("ava")
    listing = make_listing(ava)
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.SOLD)
    assert gql(LISTING, {"id": gid(listing)})["data"]["listing"]["status"] == "SOLD"
    payload = gql(UPDATE, {"input": {"listingId": gid(listing), "price": "1"}}, token=token)["data"]["updateListing"]
    assert payload["errors"] == [{"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}]
    removed = gql(REMOVE, {"input": {"listingId": gid(listing)}}, token=token)["data"]["removeListing"]
    assert removed["errors"] == [{"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}]


def test_listing_is_a_relay_node(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    listing = make_listing(ava, title="Denim jacket")
    query = "query($id: ID!) { node(id: $id) { ... on Listing { title seller { username } } } }"
    assert gql(query, {"id": gid(listing)})["data"]["node"] == {"title": "Denim jacket", "seller": {"username": "ava"}}


def test_categories_tree_is_seeded(gql):
    categories = gql("{ categories { path name parent { path } } }")["data"]["categories"]
    by_path = {category["path"]: category for category in categories}
    assert by_path["women/dresses"] == {"path": "women/dresses", "name": "Dresses", "parent": {"path": "women"}}
    assert by_path["men"]["parent"] is None


def test_listing_by_id_hides_what_does_not_exist_and_refuses_malformed_ids(gql):
    assert gql(LISTING, {"id": to_global_id("Listing", 999)}) == {"data": {"listing": None}}
    refused = gql(LISTING, {"id": to_global_id("User", 1)})
    assert refused["errors"][0]["extensions"] == {"code": "INVALID", "field": "id"}
