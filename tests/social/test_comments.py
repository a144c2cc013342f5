"""Comments with @mentions (notified on commit), editing, deleting, and the list."""

import pytest

from notifications.models import Notification
from social import services
from social.models import Comment, Mention
from tests.helpers import assert_constant_queries, gid

pytestmark = pytest.mark.django_db

ADD = """mutation($input: AddCommentInput!) {
  addComment(input: $input) { comment { id body author { username } editedAt } errors { field code } } }"""
EDIT = """mutation($input: EditCommentInput!) {
  editComment(input: $input) { comment { body editedAt } errors { field code } } }"""
DELETE = """mutation($input: DeleteCommentInput!) {
  deleteComment(input: $input) { deletedCommentId errors { field code } } }"""
COMMENTS = """query($listingId: ID!, $first: Int) {
  comments(listingId: $listingId, first: $first) {
    edges { node { body author { username followerCount viewerIsFollowing } } } } }"""


@pytest.fixture
def thread(make_user, make_listing):
    ava, ava_token = make_user("ava")
    marco, marco_token = make_user("marco")
    return make_listing(ava), (ava, ava_token), (marco, marco_token)


def add(gql, token, listing, body):
    return gql(ADD, {"input": {"listingId": gid(listing), "body": body}}, token=token)["data"]["addComment"]


def inbox(user):
    return list(Notification.objects.filter(recipient=user).values_list("title", "body"))


def test_mentions_notify_once_committed(gql, thread, make_user, django_capture_on_commit_callbacks):
    listing, (ava, _), (marco, marco_token) = thread
    priya, _ = make_user("priya")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = add(gql, marco_token, listing, "  @Ava is this still available? cc @priya. @nobody @marco  ")
    assert payload["errors"] == []
    assert payload["comment"]["body"] == "@Ava is this still available? cc @priya. @nobody @marco"
    assert inbox(ava) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    body = "@Ava is this still available? cc @priya. @nobody @marco"
    assert inbox(ava) == [("@marco mentioned you", body)]
    assert inbox(priya) == [("@marco mentioned you", body)]
    assert inbox(marco) == []  # not oneself
    assert set(Mention.objects.values_list("user__username", flat=True)) == {"ava", "priya"}


def test_a_mention_spelled_in_look_alikes_names_the_member_it_looks_like(
    gql, thread, make_user, django_capture_on_commit_callbacks
):
    listing, _, (marco, marco_token) = thread
    priya, _ = make_user("priya")
    with django_capture_on_commit_callbacks(execute=True):
        assert add(gql, marco_token, listing, "hi @АVА and @prıya")["errors"] == []  # Cyrillic А, dotless ı
    assert set(Mention.objects.values_list("user__username", flat=True)) == {"ava", "priya"}


def test_edit_notifies_only_newly_mentioned(gql, thread, make_user, django_capture_on_commit_callbacks):
    listing, (ava, ava_token), (marco, marco_token) = thread
    priya, _ = make_user("priya")
    with django_capture_on_commit_callbacks(execute=True):
        comment_id = add(gql, marco_token, listing, "hi @ava")["comment"]["id"]
        edited = gql(EDIT, {"input": {"commentId": comment_id, "body": "hi @ava and @priya"}}, token=marco_token)
    assert edited["data"]["editComment"]["comment"]["body"] == "hi @ava and @priya"
    assert edited["data"]["editComment"]["comment"]["editedAt"]
    assert len(inbox(ava)) == 1 and len(inbox(priya)) == 1
    refused = gql(EDIT, {"input": {"commentId": comment_id, "body": "mine"}}, token=ava_token)
    assert refused["data"]["editComment"]["errors"] == [{"field": "commentId", "code": "FORBIDDEN"}]
    assert Comment.objects.get().body == "hi @ava and @priya"


@pytest.mark.parametrize(
    "body, code",
    [("   ", "REQUIRED"), ("x" * 501, "INVALID"), (" ".join(f"@user{i}" for i in range(11)), "TOO_MANY_MENTIONS")],
)
def test_bad_comments_are_typed_errors(gql, thread, body, code):
    listing, _, (_, marco_token) = thread
    assert add(gql, marco_token, listing, body)["errors"] == [{"field": "body", "code": code}]
    assert not Comment.objects.exists()


def test_author_or_seller_can_delete(gql, thread, make_user):
    listing, (_, ava_token), (_, marco_token) = thread
    _, priya_token = make_user("priya")
    first = add(gql, marco_token, listing, "first")["comment"]["id"]
    second = add(gql, marco_token, listing, "second")["comment"]["id"]
    refused = gql(DELETE, {"input": {"commentId": first}}, token=priya_token)["data"]["deleteComment"]
    assert refused["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    for comment_id, token in ((first, marco_token), (second, ava_token)):
        assert gql(DELETE, {"input": {"commentId": comment_id}}, token=token)["data"]["deleteComment"] == {
            "deletedCommentId": comment_id,
            "errors": [],
        }
    assert not Comment.objects.exists()


def test_comments_list_oldest_first_with_a_fixed_number_of_queries(gql, thread, make_user):
    listing, (ava, ava_token), _ = thread
    authors = [make_user(f"fan{index}")[0] for index in range(3)]
    for author in authors:
        services.follow_user(follower=ava, followee=author)

    def grow(count):
        for index in range(count):
            services.add_comment(author=authors[index % 3], listing=listing, body=f"comment {Comment.objects.count()}")

    assert_constant_queries(
        gql, COMMENTS, {"listingId": gid(listing), "first": 100}, ava_token, grow, path=["comments"]
    )
    bodies = [
        e["node"]["body"] for e in gql(COMMENTS, {"listingId": gid(listing), "first": 3})["data"]["comments"]["edges"]
    ]
    assert bodies == ["comment 0", "comment 1", "comment 2"]


def test_the_seller_hears_of_comments_on_their_listing_once(gql, thread, django_capture_on_commit_callbacks):
    listing, (ava, ava_token), (marco, marco_token) = thread
    with django_capture_on_commit_callbacks(execute=True):
        add(gql, marco_token, listing, "Would you take 20?")
        add(gql, ava_token, listing, "Sure, send an offer")  # the seller's own reply notifies nobody
    assert inbox(ava) == [("@marco commented", f"On {listing.title}: Would you take 20?")]
    assert inbox(marco) == []
