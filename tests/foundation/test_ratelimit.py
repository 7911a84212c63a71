"""vending.ratelimit: fixed-window counters, through the Django cache API or straight to Redis."""

import os
import uuid

import pytest
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import filebased, locmem
from django.core.cache.backends.filebased import FileBasedCache
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
        True,
        True,
        True,
        False,
        False,
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


# --- The window holds on every backend -------------------------------------------------------------------------

HOURLY = ratelimit.Limit("test-hourly", max_hits=3, window_seconds=3600)
HOUR0 = 1_800_000_000.0 // 3600 * 3600  # the start of an hour


class _Clock:
    """The time the cache backends read for their expiries (they call time.time() in these modules)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock(HOUR0)
    for module in (cache_base, filebased, locmem):
        monkeypatch.setattr(module, "time", fake)
    return fake


@pytest.fixture(params=["file", "locmem", "redis"])
def hourly_cache(request, monkeypatch, tmp_path):
    if request.param == "file":  # the default configuration's backend (config/settings.py)
        cache = FileBasedCache(str(tmp_path / "cache"), {"OPTIONS": {"MAX_ENTRIES": 1_000_000}})
    else:
        cache = _locmem() if request.param == "locmem" else _redis()
    monkeypatch.setattr(ratelimit, "cache", cache)
    return cache


def test_an_hourly_limit_holds_for_the_whole_hour_between_sparse_hits(hourly_cache, clock):
    """Hits 20 minutes apart: the counter must outlive the gaps (the file cache's incr used to reset its
    expiry to the default 300 s, so every hit after a 5-minute pause counted as the first)."""
    phone = "+254711000111"
    answers = []
    for minute in (0, 20, 40, 59):
        clock.now = HOUR0 + minute * 60
        answers.append(ratelimit.hit(HOURLY, phone, now_seconds=clock.now))
    assert answers == [True, True, True, False]
    clock.now = HOUR0 + 3600  # the next hour is a new window
    assert ratelimit.hit(HOURLY, phone, now_seconds=clock.now)


def test_a_refused_subject_stays_refused_after_a_quiet_spell(hourly_cache, clock):
    phone = "+254711000222"
    for _ in range(3):
        ratelimit.hit(HOURLY, phone, now_seconds=clock.now)
    clock.now += 30 * 60  # half an hour without a single hit
    assert not ratelimit.hit(HOURLY, phone, now_seconds=clock.now)


def test_counters_are_kept_a_window_after_their_last_hit(hourly_cache, clock):
    """The stored expiry itself: at least the rest of the window, at most a window and the margin."""
    phone = "+254711000333"
    for minute in (0, 10, 30):
        clock.now = HOUR0 + minute * 60
        ratelimit.hit(HOURLY, phone, now_seconds=clock.now)
    key = f"ratelimit:{HOURLY.name}:{phone}:{int(HOUR0 // 3600)}"
    client = ratelimit.raw_client(hourly_cache)
    if client is not None:  # Redis keeps the expiry on the server, in real time
        ttl = client.ttl(hourly_cache.make_key(key))
        assert HOURLY.window_seconds - 60 <= ttl <= HOURLY.window_seconds + 5
    else:
        clock.now = HOUR0 + 3599  # the window's last second: the count is still there
        assert hourly_cache.get(key) == 3
        clock.now = HOUR0 + 30 * 60 + HOURLY.window_seconds + 6  # a window and the margin after the last hit
        assert hourly_cache.get(key) is None
