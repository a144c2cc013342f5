"""Group conversations (a mentoring group): members write with sendMessage, everyone else's unread
count and notification follow, outsiders see nothing, a closed group keeps its history only."""

import pytest
from django.utils import timezone

from notifications.models import Notification
from social import services
from social.models import Conversation, Participant
from tests.helpers import gid

pytestmark = pytest.mark.django_db

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  message { body sender { username } conversationId }
  conversation { kind title otherUser { username } unreadCount }
  errors { field code } } }"""
CONVERSATIONS = """{ conversations { edges { node { kind title otherUser { username } unreadCount
  lastMessage { body } } } } unreadMessageCount }"""


@pytest.fixture
def group(member):
    nina, ava, marco = member("nina"), member("ava"), member("marco")
    conversation = services.start_group_conversation(title="Mentoring @nina", member_ids=[nina.pk, ava.pk, marco.pk])
    return conversation, nina, ava, marco


def write(api, author, conversation, body="How do I price a coat?"):
    variables = {"input": {"conversationId": gid(conversation), "body": body}}
    return api(SEND, variables, token=author.token)["data"]["sendMessage"]


def test_a_member_writes_and_every_other_member_has_it_unread_and_notified(api, gql, group, pushes):
    conversation, nina, ava, marco = group
    sent = write(api, nina, conversation)
    assert sent == {
        "message": {
            "body": "How do I price a coat?",
            "sender": {"username": "nina"},
            "conversationId": gid(conversation),
        },
        "conversation": {"kind": "GROUP", "title": "Mentoring @nina", "otherUser": None, "unreadCount": 0},
        "errors": [],
    }
    for mentor in (ava, marco):
        inbox = gql(CONVERSATIONS, token=mentor.token)["data"]
        assert inbox == {
            "conversations": {
                "edges": [
                    {
                        "node": {
                            "kind": "GROUP",
                            "title": "Mentoring @nina",
                            "otherUser": None,
                            "unreadCount": 1,
                            "lastMessage": {"body": "How do I price a coat?"},
                        }
                    }
                ]
            },
            "unreadMessageCount": 1,
        }
        assert list(Notification.objects.filter(recipient=mentor).values_list("kind", "title")) == [
            ("message", "@nina wrote in Mentoring @nina")
        ]
    assert sorted(device.user_id for device, _ in pushes.sent) == sorted([ava.pk, marco.pk])

    write(api, ava, conversation, "Start 10% under similar sold coats.")
    sides = dict(Participant.objects.filter(conversation=conversation).values_list("user__username", "unread_count"))
    assert sides == {"nina": 1, "ava": 0, "marco": 2}


def test_outsiders_cannot_write_and_a_message_needs_one_destination(api, group, member):
    conversation, nina, ava, _ = group
    outsider = member("sam")
    assert write(api, outsider, conversation)["errors"] == [{"field": "conversationId", "code": "NOT_FOUND"}]
    both = {"input": {"conversationId": gid(conversation), "recipientId": gid(ava), "body": "Hi"}}
    assert api(SEND, both, token=nina.token)["data"]["sendMessage"]["errors"] == [
        {"field": "recipientId", "code": "REQUIRED"}
    ]
    assert not conversation.messages.exists()


def test_a_closed_group_keeps_its_history_and_refuses_new_messages(api, gql, group):
    conversation, nina, ava, _ = group
    write(api, nina, conversation)
    assert services.close_group_conversations(conversation_ids=[conversation.pk], at=timezone.now()) == 1
    assert write(api, ava, conversation, "Too late?")["errors"] == [
        {"field": "conversationId", "code": "CONVERSATION_CLOSED"}
    ]
    assert list(conversation.messages.values_list("body", flat=True)) == ["How do I price a coat?"]
    assert gql(CONVERSATIONS, token=ava.token)["data"]["conversations"]["edges"][0]["node"]["lastMessage"] == {
        "body": "How do I price a coat?"
    }


def test_a_direct_conversation_between_two_group_members_is_its_own(api, group):
    conversation, nina, ava, _ = group
    write(api, nina, conversation)
    services.send_message(sender=nina, recipient=ava, body="Privately: thanks!")
    assert Conversation.objects.filter(kind=Conversation.Kind.DIRECT).get().messages.count() == 1
    assert conversation.messages.count() == 1
