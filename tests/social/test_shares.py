"""Sharing to one's followers, rate-limited per user."""

import pytest

from marketplace.models import Listing
from social import services
from social.models import Share
from tests.helpers import gid

pytestmark = pytest.mark.django_db

SHARE = """mutation($input: ListingIdInput!) {
  shareListing(input: $input) { listing { title } sharedAt errors { field code } } }"""
FEED = "{ feed { edges { node { title } } } }"


def test_a_share_tops_the_followers_feed(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    marco, marco_token = make_user("marco")
    follower, follower_token = make_user("priya")
    services.follow_user(follower=follower, followee=marco)
    make_listing(marco, title="Marco's own")
    shared = make_listing(ava, title="Ava's dress")
    payload = gql(SHARE, {"input": {"listingId": gid(shared)}}, token=marco_token)["data"]["shareListing"]
    assert payload["listing"] == {"title": "Ava's dress"} and payload["sharedAt"] and payload["errors"] == []
    assert [e["node"]["title"] for e in gql(FEED, token=follower_token)["data"]["feed"]["edges"]] == [
        "Ava's dress",
        "Marco's own",
    ]


def test_shares_are_rate_limited_per_user(gql, make_user, make_listing, settings):
    settings.SHARE_RATE_LIMIT = "3/d"
    ava, _ = make_user("ava")
    _, marco = make_user("marco")
    _, priya = make_user("priya")
    listing = {"input": {"listingId": gid(make_listing(ava))}}
    codes = [gql(SHARE, listing, token=marco)["data"]["shareListing"]["errors"] for _ in range(4)]
    assert codes == [[], [], [], [{"field": None, "code": "RATE_LIMITED"}]]
    assert gql(SHARE, listing, token=priya)["data"]["shareListing"]["errors"] == []
    assert Share.objects.count() == 4


def test_only_available_listings_can_be_shared(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    _, token = make_user("marco")
    listing = make_listing(ava)
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.SOLD)
    payload = gql(SHARE, {"input": {"listingId": gid(listing)}}, token=token)["data"]["shareListing"]
    assert payload["errors"] == [{"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}]
    assert not Share.objects.exists()
