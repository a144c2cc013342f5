"""Direct messages through the API: conversations, unread counts, notifications, blocks, mutes, limits."""

import threading

import pytest
from django.db import connection

from notifications.models import Notification
from social import services
from social.models import Conversation, Message, Participant
from tests.helpers import assert_constant_queries, gid

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  message { id body kind sender { username } conversationId }
  conversation { id unreadCount otherUser { username } }
  errors { field code } } }"""
CONVERSATIONS = """query($first: Int, $after: String) { conversations(first: $first, after: $after) {
  edges { node { id unreadCount muted firstUnreadMessageId otherUser { username followerCount }
                 lastMessage { body sender { username } listings { title } } } }
  pageInfo { hasNextPage endCursor } }
  unreadMessageCount }"""
MESSAGES = """query($conversationId: ID!, $first: Int, $after: String) {
  messages(conversationId: $conversationId, first: $first, after: $after) {
    edges { node { id body kind sender { username viewerIsFollowing } listings { title } } }
    pageInfo { hasNextPage endCursor } } }"""
MARK_READ = """mutation($input: ConversationIdInput!) { markConversationRead(input: $input) {
  conversation { unreadCount firstUnreadMessageId } unreadMessageCount errors { field code } } }"""
MUTE = "mutation($input: UserIdInput!) { muteUser(input: $input) { user { username } errors { field code } } }"
UNMUTE = "mutation($input: UserIdInput!) { unmuteUser(input: $input) { errors { field code } } }"
CONVERSATION_WITH = "query($userId: ID!) { conversationWith(userId: $userId) { id muted unreadCount } }"

pytestmark = pytest.mark.django_db


def send(api, sender, recipient, body="Hi there"):
    return api(SEND, {"input": {"recipientId": gid(recipient), "body": body}}, token=sender.token)["data"][
        "sendMessage"
    ]


def message_rows(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", "title", "body"))


def test_the_first_message_starts_a_conversation_both_see(api, gql, member, pushes):
    ava, marco = member("ava"), member("marco")
    sent = send(api, ava, marco, "Is the coat still available?")
    assert sent["errors"] == []
    assert sent["message"]["body"] == "Is the coat still available?" and sent["message"]["kind"] == "TEXT"
    assert sent["conversation"]["otherUser"] == {"username": "marco"} and sent["conversation"]["unreadCount"] == 0

    seen = gql(CONVERSATIONS, token=marco.token)["data"]
    [node] = [edge["node"] for edge in seen["conversations"]["edges"]]
    assert node["otherUser"]["username"] == "ava" and node["unreadCount"] == 1 and seen["unreadMessageCount"] == 1
    assert node["lastMessage"] == {
        "body": "Is the coat still available?",
        "sender": {"username": "ava"},
        "listings": [],
    }
    assert node["firstUnreadMessageId"] == sent["message"]["id"]
    assert message_rows(marco) == [("message", "@ava sent you a message", "Is the coat still available?")]
    assert [device.user_id for device, _ in pushes.sent] == [marco.pk]

    # Replying reads the conversation; the first sender now has one unread.
    reply = send(api, marco, ava, "Yes!")
    assert reply["conversation"]["id"] == sent["conversation"]["id"]
    assert Conversation.objects.count() == 1
    assert gql(CONVERSATIONS, token=marco.token)["data"]["unreadMessageCount"] == 0
    assert gql(CONVERSATIONS, token=ava.token)["data"]["unreadMessageCount"] == 1


def test_unread_messages_share_one_notification_until_the_conversation_is_read(api, member, pushes):
    ava, marco = member("ava"), member("marco")
    conversation_id = send(api, ava, marco, "Hello")["conversation"]["id"]
    send(api, ava, marco, "Would you take 40?")
    send(api, ava, marco, "Or 45?")
    assert message_rows(marco) == [("message", "@ava sent you 3 messages", "Or 45?")]
    assert len(pushes.sent) == 1

    read = api(MARK_READ, {"input": {"conversationId": conversation_id}}, token=marco.token)["data"][
        "markConversationRead"
    ]
    assert read == {
        "conversation": {"unreadCount": 0, "firstUnreadMessageId": None},
        "unreadMessageCount": 0,
        "errors": [],
    }
    send(api, ava, marco, "Still there?")
    assert sorted(message_rows(marco)) == [
        ("message", "@ava sent you 3 messages", "Or 45?"),
        ("message", "@ava sent you a message", "Still there?"),
    ]


def test_messages_page_newest_first_and_only_for_the_two_members(api, gql, member):
    ava, marco, sam = member("ava"), member("marco"), member("sam")
    for number in range(5):
        conversation_id = send(api, ava, marco, f"Message {number}")["conversation"]["id"]
    first = gql(MESSAGES, {"conversationId": conversation_id, "first": 3}, token=marco.token)["data"]["messages"]
    assert [edge["node"]["body"] for edge in first["edges"]] == ["Message 4", "Message 3", "Message 2"]
    rest = gql(
        MESSAGES,
        {"conversationId": conversation_id, "first": 3, "after": first["pageInfo"]["endCursor"]},
        token=marco.token,
    )["data"]["messages"]
    assert [edge["node"]["body"] for edge in rest["edges"]] == ["Message 1", "Message 0"]
    assert rest["pageInfo"]["hasNextPage"] is False

    refused = gql(MESSAGES, {"conversationId": conversation_id}, token=sam.token)
    assert refused["data"]["messages"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert gql(CONVERSATIONS, token=sam.token)["data"]["conversations"]["edges"] == []
    marked = api(MARK_READ, {"input": {"conversationId": conversation_id}}, token=sam.token)
    assert marked["data"]["markConversationRead"]["errors"] == [{"field": "conversationId", "code": "NOT_FOUND"}]


def test_blocks_in_either_direction_stop_messages(api, member):
    ava, marco = member("ava"), member("marco")
    services.block_user(blocker=marco, blocked=ava)
    assert send(api, ava, marco)["errors"] == [{"field": "recipientId", "code": "BLOCKED"}]
    assert send(api, marco, ava)["errors"] == [{"field": "recipientId", "code": "BLOCKED"}]
    assert not Message.objects.exists() and not Notification.objects.exists()


def test_bad_messages_are_refused(api, member):
    ava, marco = member("ava"), member("marco")
    assert send(api, ava, ava)["errors"] == [{"field": "recipientId", "code": "CANNOT_TARGET_SELF"}]
    assert send(api, ava, marco, "   ")["errors"] == [{"field": "body", "code": "REQUIRED"}]
    assert send(api, ava, marco, "x" * 2001)["errors"] == [{"field": "body", "code": "INVALID"}]
    marco.is_active = False
    marco.save(update_fields=["is_active"])
    assert send(api, ava, marco)["errors"] == [{"field": "recipientId", "code": "NOT_FOUND"}]
    assert not Message.objects.exists()


def test_a_muted_conversation_counts_unread_but_does_not_notify(api, gql, member, pushes):
    ava, marco = member("ava"), member("marco")
    assert gql(CONVERSATION_WITH, {"userId": gid(ava)}, token=marco.token)["data"]["conversationWith"] is None
    assert api(MUTE, {"input": {"userId": gid(ava)}}, token=marco.token)["data"]["muteUser"] == {
        "user": {"username": "ava"},
        "errors": [],
    }
    assert gql(CONVERSATIONS, token=marco.token)["data"]["conversations"]["edges"] == []  # nothing said yet

    send(api, ava, marco, "Hello?")
    assert (
        gql(CONVERSATION_WITH, {"userId": gid(ava)}, token=marco.token)["data"]["conversationWith"]["unreadCount"] == 1
    )
    assert message_rows(marco) == [] and pushes.sent == []

    api(UNMUTE, {"input": {"userId": gid(ava)}}, token=marco.token)
    send(api, ava, marco, "Now?")
    assert message_rows(marco) == [("message", "@ava sent you 2 messages", "Now?")]


def test_messages_are_rate_limited(api, member, settings):
    settings.MESSAGE_RATE_LIMIT = "2/m"
    ava, marco = member("ava"), member("marco")
    assert [send(api, ava, marco)["errors"] for _ in range(3)] == [[], [], [{"field": None, "code": "RATE_LIMITED"}]]
    assert Message.objects.count() == 2


def test_the_conversation_list_runs_a_fixed_number_of_queries(gql, member, make_listing):
    ava = member("ava")
    listing = make_listing(ava)

    def grow(count):
        for _ in range(count):
            fan = member(f"fan{Participant.objects.count()}")
            services.send_message(sender=fan, recipient=ava, body="Hi")
            services.send_message(sender=ava, recipient=fan, body="Look", kind=Message.Kind.UPSELL, listings=[listing])

    assert_constant_queries(gql, CONVERSATIONS, {"first": 100}, ava.token, grow, path=["conversations"])


def test_the_message_list_runs_a_fixed_number_of_queries(gql, member, make_listing):
    ava, marco = member("ava"), member("marco")
    listing = make_listing(ava)
    services.set_muted(user=marco, other=ava, muted=False)  # starts the conversation, still empty
    conversation = Conversation.objects.get()

    def grow(count):
        for _ in range(count):
            services.send_message(sender=ava, recipient=marco, body="Look", listings=[listing])

    assert_constant_queries(
        gql, MESSAGES, {"conversationId": gid(conversation), "first": 100}, marco.token, grow, path=["messages"]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_members_writing_each_other_at_once_share_one_conversation_with_exact_counts(make_user):
    ava, _ = make_user("ava")
    marco, _ = make_user("marco")
    attempts = [(ava, marco), (marco, ava)] * 10
    barrier = threading.Barrier(len(attempts))
    errors = []

    def write(sender, recipient):
        try:
            barrier.wait()
            services.send_message(sender=sender, recipient=recipient, body="Hi")
        except Exception as exc:  # noqa: BLE001 - any error fails the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 20
    # Whoever wrote last has read everything; the other has unread exactly what came after their own last.
    last = conversation.messages.order_by("-created_at", "-pk").first()
    reader = Participant.objects.get(conversation=conversation, user=last.sender)
    waiting = Participant.objects.get(conversation=conversation, user_id=({ava.pk, marco.pk} - {last.sender_id}).pop())
    own_last = conversation.messages.filter(sender_id=waiting.user_id).order_by("-created_at", "-pk").first()
    assert reader.unread_count == 0
    assert waiting.unread_count == conversation.messages.filter(pk__gt=own_last.pk).count()
    assert conversation.last_message_id == last.pk
