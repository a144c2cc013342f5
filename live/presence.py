"""Who is watching a show, counted across every server process.

Each showEvents subscription is a member of its show's sorted set in Redis
(`live:viewers:<show id>`), scored by the time its presence expires: it is added on subscribe,
removed when the subscription ends, and its expiry pushed back by a heartbeat every
LIVE_PRESENCE_HEARTBEAT seconds (one per show per process, for all its members there). A
process that crashes never removes its members; they stop counting once LIVE_PRESENCE_TTL
passes without a heartbeat. Counting drops expired members and takes the set's size in one
atomic pipeline, so no process ever needs to know the others.

Count changes reach the room coalesced: the first change of an interval claims it with
`SET NX PX` (one claim across all processes) and the claimant broadcasts the count when the
interval ends, so a burst of a thousand arrivals is one event a second, not a thousand.

With no REDIS_URL (the embedded runtime, one process) the same sets live in this process.
"""

import threading
import time
from collections.abc import Iterable
from functools import lru_cache

import redis
from django.conf import settings


def backend():
    return _backend_for(settings.REDIS_URL)


@lru_cache(maxsize=4)
def _backend_for(redis_url: str):
    return RedisPresence(redis_url) if redis_url else LocalPresence()


class RedisPresence:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)

    def join(self, show_id: int, members: Iterable[str], now: float) -> int:
        """Add or refresh members; returns how many expired members were dropped meanwhile."""
        key = _key(show_id)
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, dict.fromkeys(members, now + settings.LIVE_PRESENCE_TTL))
        pipe.expire(key, int(settings.LIVE_PRESENCE_TTL) + 1)  # an empty room leaves no key behind
        expired, _, _ = pipe.execute()
        return expired

    def leave(self, show_id: int, member: str) -> None:
        self.client.zrem(_key(show_id), member)

    def counts(self, show_ids: list[int], now: float) -> dict[int, int]:
        pipe = self.client.pipeline()
        for show_id in show_ids:
            pipe.zremrangebyscore(_key(show_id), "-inf", now)
            pipe.zcard(_key(show_id))
        results = pipe.execute()
        return dict(zip(show_ids, results[1::2], strict=False))

    def claim_count_broadcast(self, show_id: int, seconds: float) -> bool:
        return bool(self.client.set(f"live:viewer-count-due:{show_id}", 1, nx=True, px=int(seconds * 1000)))


class LocalPresence:
    def __init__(self):
        self.lock = threading.Lock()
        self.expiries: dict[int, dict[str, float]] = {}
        self.claims: dict[int, float] = {}

    def join(self, show_id: int, members: Iterable[str], now: float) -> int:
        with self.lock:
            expiries = self.expiries.setdefault(show_id, {})
            expired = self._drop_expired(expiries, now)
            expiries.update(dict.fromkeys(members, now + settings.LIVE_PRESENCE_TTL))
            return expired

    def leave(self, show_id: int, member: str) -> None:
        with self.lock:
            self.expiries.get(show_id, {}).pop(member, None)

    def counts(self, show_ids: list[int], now: float) -> dict[int, int]:
        with self.lock:
            counted = {}
            for show_id in show_ids:
                members = self.expiries.get(show_id, {})
                self._drop_expired(members, now)
                counted[show_id] = len(members)
            return counted

    def claim_count_broadcast(self, show_id: int, seconds: float) -> bool:
        # Called from the event loop's thread pool; the claim is per process, like the sets.
        with self.lock:
            if self.claims.get(show_id, 0) > time.monotonic():
                return False
            self.claims[show_id] = time.monotonic() + seconds
            return True

    @staticmethod
    def _drop_expired(members: dict[str, float], now: float) -> int:
        expired = [member for member, expiry in members.items() if expiry <= now]
        for member in expired:
            del members[member]
        return len(expired)


def _key(show_id: int) -> str:
    return f"live:viewers:{show_id}"
