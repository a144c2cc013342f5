"""The embedded runtime's channel layer (no REDIS_URL): channels' in-memory layer, swept once a second.

Written for channels 4.3 (pinned in pyproject.toml); the private method it overrides and the state
it shares with its base are listed below and checked by tests/transport/test_internals.py.
"""

import asyncio
import time
from copy import deepcopy

from channels import layers


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    """The embedded runtime's layer (no REDIS_URL), made for rooms of a thousand subscribers.

    Channels' own sweeps every channel and group for expired messages on every receive (a
    broadcast to N subscribers: N receives of N channels each) and copies a group message for
    each member in a task of its own; this one sweeps at most once a second and hands the members
    one copy, as the Redis pub/sub layer does for the subscribers of a process.
    """

    SWEEP_INTERVAL = 1.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.next_sweep = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_INTERVAL
            super()._clean_expired()

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        shared = (time.time() + self.expiry, deepcopy(message))
        for channel in list(self.groups.get(group, {})):
            queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
            if not queue.full():  # a full channel misses the message, as with channels' layer
                queue.put_nowait(shared)


# (owner, name, parameters of a method) that the class above overrides or calls.
RELIED_ON = (
    (layers.InMemoryChannelLayer, "_clean_expired", ("self",)),
    (layers.InMemoryChannelLayer, "group_send", ("self", "group", "message")),
    (layers.InMemoryChannelLayer, "get_capacity", ("self", "channel")),
    (layers.InMemoryChannelLayer, "require_valid_group_name", ("self", "name")),
)
# State of the base layer that group_send fills as the base's receive and sweep expect
# (queues of (expiry time, message) per channel; members per group).
RELIED_ON_PER_INSTANCE = ("channels", "groups", "expiry")
