"""The cache's Redis connections are the process's, not each request's.

Under ASGI every HTTP request is a context of its own, and Django makes a cache object per
context: each request's rate-limit check used to open a Redis connection (config.caching)."""

import contextvars

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.redis


def test_requests_reuse_one_redis_connection():
    server = redis.Redis.from_url(settings.REDIS_URL)
    opened_before = server.info("stats")["total_connections_received"]
    for number in range(20):  # as 20 requests, one after another, each in its own context
        assert contextvars.Context().run(cache.add, f"test-cache-connections:{number}", 1, 10)
    assert server.info("stats")["total_connections_received"] - opened_before <= 2  # not 20
    assert cache.get("test-cache-connections:19") == 1
