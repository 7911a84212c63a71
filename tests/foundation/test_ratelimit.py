"""vending.ratelimit: fixed-window counters, through the Django cache API or straight to Redis."""

import os
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from vending import ratelimit

LIMIT = ratelimit.Limit("test-hits", max_hits=3, window_seconds=60)
T0 = 1_800_000_000.0  # the start of a window (divisible by 60)


def _locmem():
    return LocMemCache(f"ratelimit-{uuid.uuid4()}", {})


def _redis():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set (CI sets it)")
    return RedisCache(url, {"KEY_PREFIX": f"ratelimit-test-{uuid.uuid4()}"})


@pytest.fixture(params=["locmem", "redis"])
def counted_in(request, monkeypatch):
    cache = _locmem() if request.param == "locmem" else _redis()
    monkeypatch.setattr(ratelimit, "cache", cache)
    return cache


def test_the_hit_past_the_limit_is_refused(counted_in):
    assert [ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0 + n) for n in range(5)] == [
        True, True, True, False, False,
    ]


def test_subjects_are_counted_apart(counted_in):
    for _ in range(3):
        ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0)
    assert ratelimit.hit(LIMIT, "+254711000222", now_seconds=T0)
    assert not ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0)


def test_a_new_window_starts_again(counted_in):
    for _ in range(4):
        ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0 + 59)
    assert ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0 + 60)


def test_redis_counters_expire_after_their_window(monkeypatch):
    cache = _redis()
    monkeypatch.setattr(ratelimit, "cache", cache)
    ratelimit.hit(LIMIT, "+254711000111", now_seconds=T0)
    client = cache._cache.get_client(write=False)
    key = cache.make_key(f"ratelimit:{LIMIT.name}:+254711000111:{int(T0 // 60)}")
    assert int(client.get(key)) == 1
    assert 0 < client.ttl(key) <= LIMIT.window_seconds + 5
