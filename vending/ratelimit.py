"""Per-subject rate limits in the shared cache (fixed windows), e.g. USSD dials or purchases per phone.

The cache is Redis in production and a file cache by default, so every process sees the same counts.
A window is named by its number (``now // window_seconds``) in the key, so a counter only has to live
until its window ends; each counter is kept for a whole window plus a margin after its last hit, on
every backend. (Django's ``incr`` keeps a key's expiry on Redis and locmem but not on the file or
database caches, which store the new value with the *default* timeout, 300 s: without the ``touch``
below, "30 dials an hour" would lift five minutes after the last dial.) The limits and their settings
are listed in the README (Rate limits).
"""

from dataclasses import dataclass

from django.core.cache import cache

from vending.rediscache import raw_client


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


def hit(limit: Limit, subject: str, *, now_seconds: float) -> bool:
    """Count one hit for `subject`; return False when the limit is already used up in this window."""
    window = int(now_seconds // limit.window_seconds)
    key = f"ratelimit:{limit.name}:{subject}:{window}"
    ttl = limit.window_seconds + 5
    client = raw_client(cache)
    if client is not None:
        # One round trip, run atomically (MULTI/EXEC): create the counter with its expiry if absent, then
        # count. Atomic, so the counter cannot expire between the two and come back without an expiry.
        raw_key = cache.make_key(key)
        pipe = client.pipeline(transaction=True)
        pipe.set(raw_key, 0, ex=ttl, nx=True)
        pipe.incr(raw_key)
        count = pipe.execute()[1]
    else:
        # add() is atomic: it only creates the counter if absent, so two processes never both reset it.
        cache.add(key, 0, timeout=ttl)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=ttl)
            count = 1
        else:
            # Backends whose incr() is get + set (file, database) just gave the counter the default timeout.
            cache.touch(key, timeout=ttl)
    return count <= limit.max_hits
