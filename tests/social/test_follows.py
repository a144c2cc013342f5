"""Follows, the counts on User, and the followers/following lists."""

import pytest
from graphql_relay import to_global_id

from social import services
from social.models import Follow
from tests.helpers import assert_constant_queries, gid

pytestmark = pytest.mark.django_db

FOLLOW = """mutation($input: UserIdInput!) {
  followUser(input: $input) { user { username followerCount viewerIsFollowing } errors { field code } } }"""
UNFOLLOW = """mutation($input: UserIdInput!) {
  unfollowUser(input: $input) { user { followerCount viewerIsFollowing } errors { field code } } }"""
ME = "{ me { followerCount followingCount viewerIsFollowing } }"
FOLLOWERS = """query($id: ID!, $first: Int) { node(id: $id) { ... on User {
  %s(first: $first) { edges { node { username followerCount followingCount viewerIsFollowing } } } } } }"""


def test_follow_and_unfollow_are_idempotent(gql, make_user):
    ava, _ = make_user("ava")
    _, token = make_user("marco")
    target = {"input": {"userId": gid(ava)}}
    for _ in range(2):
        assert gql(FOLLOW, target, token=token)["data"]["followUser"] == {
            "user": {"username": "ava", "followerCount": 1, "viewerIsFollowing": True},
            "errors": [],
        }
    assert gql(ME, token=token)["data"]["me"] == {"followerCount": 0, "followingCount": 1, "viewerIsFollowing": False}
    for _ in range(2):
        assert gql(UNFOLLOW, target, token=token)["data"]["unfollowUser"] == {
            "user": {"followerCount": 0, "viewerIsFollowing": False},
            "errors": [],
        }


@pytest.mark.parametrize(
    "target, code",
    [("self", "CANNOT_TARGET_SELF"), ("User:999", "NOT_FOUND"), ("Listing:1", "INVALID"), ("junk", "INVALID")],
)
def test_bad_follow_targets_are_typed_errors(gql, make_user, target, code):
    me, token = make_user("ava")
    user_id = gid(me) if target == "self" else (to_global_id(*target.split(":")) if ":" in target else target)
    assert gql(FOLLOW, {"input": {"userId": user_id}}, token=token)["data"]["followUser"]["errors"] == [
        {"field": "userId", "code": code}
    ]
    assert not Follow.objects.exists()


def test_followers_and_following_lists_newest_first(gql, make_user):
    ava, token = make_user("ava")
    for name in ("marco", "priya"):
        services.follow_user(follower=make_user(name)[0], followee=ava)
    names = [
        edge["node"]["username"]
        for edge in gql(FOLLOWERS % "followers", {"id": gid(ava)}, token=token)["data"]["node"]["followers"]["edges"]
    ]
    assert names == ["priya", "marco"]
    following = gql(FOLLOWERS % "following", {"id": gid(ava)})["data"]["node"]["following"]["edges"]
    assert following == []


@pytest.mark.parametrize("field", ["followers", "following"])
def test_follow_lists_run_a_fixed_number_of_queries(gql, make_user, field):
    ava, token = make_user("ava")
    made = []

    def grow(count):
        for _ in range(count):
            other, _ = make_user(f"user{len(made)}")
            if field == "followers":
                services.follow_user(follower=other, followee=ava)
            else:
                services.follow_user(follower=ava, followee=other)
            services.follow_user(follower=other, followee=made[-1] if made else ava)
            made.append(other)

    assert_constant_queries(gql, FOLLOWERS % field, {"id": gid(ava), "first": 100}, token, grow, path=["node", field])


def test_a_new_follower_is_announced_once_even_after_refollowing(gql, make_user, django_capture_on_commit_callbacks):
    from notifications.models import Notification

    ava, _ = make_user("ava")
    _, token = make_user("marco")
    with django_capture_on_commit_callbacks(execute=True):
        for mutation in (FOLLOW, UNFOLLOW, FOLLOW):
            gql(mutation, {"input": {"userId": gid(ava)}}, token=token)
    assert list(Notification.objects.filter(recipient=ava).values_list("kind", "title")) == [
        ("new_follower", "@marco follows you")
    ]
