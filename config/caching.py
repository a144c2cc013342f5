"""One Redis connection pool per process for the cache.

Django keeps a cache object per request context, and each one opens its own pool: under ASGI
every HTTP request is a context of its own, so every request connected to Redis anew (for its
rate limit, say) and left the connection behind for the garbage collector. Django's RedisCache
takes the pool's class as an option (`pool_class`); this one hands every cache object of the
process the same thread-safe pool for the same server and options.
"""

import threading

import redis


class ProcessConnectionPool(redis.ConnectionPool):
    _pools: dict[tuple[str, str], redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options) -> redis.ConnectionPool:
        key = (url, repr(sorted(options.items())))
        with cls._lock:
            if key not in cls._pools:
                cls._pools[key] = super().from_url(url, **options)
            return cls._pools[key]
