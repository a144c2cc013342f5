"""Likes: idempotent, exact counts under concurrency, the seller's list of likers."""

import threading

import pytest
from django.db import connection

from marketplace.models import Listing
from social import services
from social.models import Like
from tests.helpers import assert_constant_queries, gid

LIKE = """mutation($input: ListingIdInput!) {
  likeListing(input: $input) { listing { likeCount viewerHasLiked } errors { field code } } }"""
UNLIKE = """mutation($input: ListingIdInput!) {
  unlikeListing(input: $input) { listing { likeCount viewerHasLiked } errors { field code } } }"""
LIKES = """query($listingId: ID!, $first: Int) {
  listingLikes(listingId: $listingId, first: $first) {
    edges { node { createdAt user { username followerCount viewerIsFollowing } } } }
}"""


@pytest.mark.django_db
def test_like_and_unlike_are_idempotent(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    _, token = make_user("marco")
    listing = {"input": {"listingId": gid(make_listing(ava))}}
    for _ in range(2):
        assert gql(LIKE, listing, token=token)["data"]["likeListing"] == {
            "listing": {"likeCount": 1, "viewerHasLiked": True},
            "errors": [],
        }
    for _ in range(2):
        assert gql(UNLIKE, listing, token=token)["data"]["unlikeListing"] == {
            "listing": {"likeCount": 0, "viewerHasLiked": False},
            "errors": [],
        }
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_like_needs_an_available_listing_and_a_login(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    _, token = make_user("marco")
    listing = make_listing(ava)
    assert gql(LIKE, {"input": {"listingId": gid(listing)}})["data"]["likeListing"]["errors"] == [
        {"field": None, "code": "UNAUTHENTICATED"}
    ]
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.SOLD)
    assert gql(LIKE, {"input": {"listingId": gid(listing)}}, token=token)["data"]["likeListing"]["errors"] == [
        {"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}
    ]
    assert gql(LIKE, {"input": {"listingId": gid(ava)}}, token=token)["data"]["likeListing"]["errors"] == [
        {"field": "listingId", "code": "INVALID"}
    ]
    assert not Like.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_likes_are_counted_exactly(make_user, make_listing):
    seller, _ = make_user("seller")
    listing = make_listing(seller)
    fans = [make_user(f"fan{index}")[0] for index in range(20)]
    # Ten of them press twice at once, too: still one like each.
    attempts = fans + fans[:10]
    barrier = threading.Barrier(len(attempts))
    errors = []

    def like(fan):
        try:
            barrier.wait()
            services.like_listing(user=fan, listing=listing)
        except Exception as exc:  # noqa: BLE001 - any error fails the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(fan,)) for fan in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Like.objects.filter(listing=listing).count() == 20
    listing.refresh_from_db()
    assert listing.like_count == 20


@pytest.mark.django_db
def test_seller_sees_who_liked_newest_first(gql, make_user, make_listing):
    ava, token = make_user("ava")
    listing = make_listing(ava)
    for name in ("marco", "priya"):
        services.like_listing(user=make_user(name)[0], listing=listing)
    edges = gql(LIKES, {"listingId": gid(listing)}, token=token)["data"]["listingLikes"]["edges"]
    assert [edge["node"]["user"]["username"] for edge in edges] == ["priya", "marco"]
    _, sam_token = make_user("sam")
    refused = gql(LIKES, {"listingId": gid(listing)}, token=sam_token)
    assert refused["data"]["listingLikes"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.django_db
def test_likers_list_runs_a_fixed_number_of_queries(gql, make_user, make_listing):
    ava, token = make_user("ava")
    listing = make_listing(ava)
    made = []

    def grow(count):
        for _ in range(count):
            fan, _ = make_user(f"fan{len(made)}")
            services.like_listing(user=fan, listing=listing)
            services.follow_user(follower=ava, followee=fan)
            made.append(fan)

    assert_constant_queries(gql, LIKES, {"listingId": gid(listing), "first": 100}, token, grow, path=["listingLikes"])
