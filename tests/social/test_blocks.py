"""Blocking: no comments, no follows, no sight of the blocker's closet; follows end."""

import pytest

from social import selectors, services
from social.models import Block, Follow
from tests.helpers import gid

pytestmark = pytest.mark.django_db

BLOCK = "mutation($input: UserIdInput!) { blockUser(input: $input) { user { username } errors { field code } } }"
UNBLOCK = "mutation($input: UserIdInput!) { unblockUser(input: $input) { errors { field code } } }"
FOLLOW = "mutation($input: UserIdInput!) { followUser(input: $input) { errors { field code } } }"
COMMENT = (
    """mutation($input: AddCommentInput!) { addComment(input: $input) { comment { body } errors { field code } } }"""
)
CLOSET = "query($sellerId: ID) { listings(sellerId: $sellerId) { edges { node { title } } } }"
LISTING = "query($id: ID!) { listing(id: $id) { title } }"


def test_blocked_user_cannot_follow_comment_or_see_the_closet(gql, make_user, make_listing):
    ava, ava_token = make_user("ava")
    marco, marco_token = make_user("marco")
    listing = make_listing(ava, title="Ava's dress")
    make_listing(marco, title="Marco's shoes")
    services.follow_user(follower=marco, followee=ava)
    services.follow_user(follower=ava, followee=marco)

    assert gql(BLOCK, {"input": {"userId": gid(marco)}}, token=ava_token)["data"]["blockUser"] == {
        "user": {"username": "marco"},
        "errors": [],
    }
    assert not Follow.objects.exists()  # both ways
    assert selectors.is_blocked(ava.pk, marco.pk) and selectors.is_blocked(marco.pk, ava.pk)

    assert gql(FOLLOW, {"input": {"userId": gid(ava)}}, token=marco_token)["data"]["followUser"]["errors"] == [
        {"field": "userId", "code": "BLOCKED"}
    ]
    assert gql(CLOSET, {"sellerId": gid(ava)}, token=marco_token)["data"]["listings"]["edges"] == []
    assert [e["node"]["title"] for e in gql(CLOSET, token=marco_token)["data"]["listings"]["edges"]] == [
        "Marco's shoes"
    ]
    assert gql(LISTING, {"id": gid(listing)}, token=marco_token)["data"]["listing"] is None
    comment = gql(COMMENT, {"input": {"listingId": gid(listing), "body": "hi"}}, token=marco_token)
    assert comment["data"]["addComment"]["errors"] == [{"field": "listingId", "code": "NOT_FOUND"}]

    # The blocker still sees the blocked user's closet, but cannot comment on it either.
    marco_listing = make_listing(marco, title="Marco's jacket")
    blocked_comment = gql(COMMENT, {"input": {"listingId": gid(marco_listing), "body": "hi"}}, token=ava_token)
    assert blocked_comment["data"]["addComment"]["errors"] == [{"field": "listingId", "code": "BLOCKED"}]

    assert gql(UNBLOCK, {"input": {"userId": gid(marco)}}, token=ava_token)["data"]["unblockUser"]["errors"] == []
    assert not Block.objects.exists()
    assert gql(LISTING, {"id": gid(listing)}, token=marco_token)["data"]["listing"] == {"title": "Ava's dress"}


def test_cannot_block_oneself(gql, make_user):
    ava, token = make_user("ava")
    assert gql(BLOCK, {"input": {"userId": gid(ava)}}, token=token)["data"]["blockUser"]["errors"] == [
        {"field": "userId", "code": "CANNOT_TARGET_SELF"}
    ]
