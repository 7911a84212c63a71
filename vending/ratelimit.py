"""Per-subject rate limits in the shared cache (fixed windows), e.g. USSD dials or purchases per phone.

The cache is Redis in production and a file cache by default, so every process sees the same counts.
"""

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


def hit(limit: Limit, subject: str, *, now_seconds: float) -> bool:
    """Count one hit for `subject`; return False when the limit is already used up in this window."""
    window = int(now_seconds // limit.window_seconds)
    key = f"ratelimit:{limit.name}:{subject}:{window}"
    # add() is atomic: it only creates the counter if absent, so two processes never both reset it.
    cache.add(key, 0, timeout=limit.window_seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=limit.window_seconds + 5)
        count = 1
    return count <= limit.max_hits
