"""OAuth token caching shared between workers through a Django-cache-shaped object.

Only one worker refreshes at a time: it takes a short lock with ``cache.add`` (atomic in Redis and
memcached), fetches, stores. Others wait briefly for the new token instead of stampeding the OAuth
endpoint. The lock expires on its own, so a crashed refresher cannot block anyone for long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class CacheLike(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...
    def add(self, key: str, value: Any, timeout: float | None = None) -> bool: ...
    def delete(self, key: str) -> Any: ...


class LocalCache:
    """Process-local stand-in with the same shape, for tests and single-process runs."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _live(self, key: str) -> tuple[Any, float | None] | None:
        item = self._data.get(key)
        if item is not None and item[1] is not None and item[1] <= self._clock():
            del self._data[key]
            return None
        return item

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            item = self._live(key)
            return default if item is None else item[0]

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, None if timeout is None else self._clock() + timeout)

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, None if timeout is None else self._clock() + timeout)
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None


class SharedToken:
    """A bearer token fetched by ``fetch() -> (token, ttl_seconds)`` and shared through ``cache``."""

    def __init__(
        self,
        cache: CacheLike,
        key: str,
        fetch: Callable[[], tuple[str, float]],
        *,
        lock_seconds: float = 15.0,
        wait_seconds: float = 5.0,
    ) -> None:
        self._cache = cache
        self._key = key
        self._lock_key = key + ":lock"
        self._fetch = fetch
        self._lock_seconds = lock_seconds
        self._wait_seconds = wait_seconds

    def get(self) -> str:
        token = self._cache.get(self._key)
        if token:
            return str(token)
        deadline = time.monotonic() + self._wait_seconds
        while True:
            if self._cache.add(self._lock_key, "1", self._lock_seconds):
                try:
                    token = self._cache.get(self._key)  # someone may have finished just before us
                    if token:
                        return str(token)
                    token, ttl = self._fetch()
                    self._cache.set(self._key, token, ttl)
                    return token
                finally:
                    self._cache.delete(self._lock_key)
            time.sleep(0.05)
            token = self._cache.get(self._key)
            if token:
                return str(token)
            if time.monotonic() > deadline:
                # The holder is stuck; fetching ourselves is better than failing the payment.
                token, ttl = self._fetch()
                self._cache.set(self._key, token, ttl)
                return token

    def invalidate(self, rejected_token: str) -> None:
        """Drop the cached token, but only if it is still the one the provider rejected."""
        if self._cache.get(self._key) == rejected_token:
            self._cache.delete(self._key)
