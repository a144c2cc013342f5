"""Writes while Redis (rate-limit windows, channel layer) is out of reach: the write is done and
said so. Before, the rate limit's cache error became `Internal server error.`, and so did a
broadcast failing after commit: the client was told of a failure for a change that was made,
and a retry made it twice. Redis here is a loopback port nobody listens on."""

from django.test import override_settings

from live.models import ShowMessage
from tests.helpers import gid
from tests.processes import free_port

SEND = """mutation($input: SendShowMessageInput!) {
  sendShowMessage(input: $input) { message { body } errors { field code message } } }"""


def unreachable_redis():
    url = f"redis://127.0.0.1:{free_port()}/0"
    return override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}},
        CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                    "CONFIG": {"hosts": [url]}}})


def test_a_chat_message_sent_while_redis_is_out_of_reach_is_posted_once_and_reported_done(api, member, show_of):
    host = member("priya")
    show = show_of(host)

    with unreachable_redis():
        body = api(SEND, {"input": {"showId": gid(show), "body": "Still live?"}}, token=host.token)

    assert body == {"data": {"sendShowMessage": {"message": {"body": "Still live?"}, "errors": []}}}
    assert list(ShowMessage.objects.filter(show=show).values_list("body", flat=True)) == ["Still live?"]
