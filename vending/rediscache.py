"""The redis-py client behind a Django RedisCache, for the few hot paths that talk to Redis directly.

Django's RedisCache builds a new `redis.Redis` object (and its response-callback table) on every call and
pickles every value: on a USSD hop that cost more than the round trips themselves. The hot paths (USSD
session records, rate-limit counters) use the cache's own client instead, built once per cache object and
sharing its connection pool, and fall back to the Django cache API for any other backend (the file cache
of a development machine, the local-memory caches of tests).
"""

from __future__ import annotations

import weakref
from typing import Any

from django.core.cache.backends.base import BaseCache

# Keyed by the RedisCacheClient of each Django cache object (Django's cache objects are per thread).
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def raw_client(cache: BaseCache) -> Any | None:
    """The redis-py client behind `cache` when it is Django's RedisCache, else None."""
    backend = getattr(cache, "_cache", None)  # RedisCache's RedisCacheClient; other backends lack it
    if backend is None or not hasattr(backend, "get_client"):
        return None
    client = _clients.get(backend)
    if client is None:
        client = _clients[backend] = backend.get_client(write=True)
    return client
