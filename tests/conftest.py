"""Test-wide set-up: with KORONTO_REQUIRE_SERVICES=1 (CI), refuse to run on anything but Postgres and Redis."""

import itertools
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

from config.celery import app as celery_app

# A shared, noisy machine cannot promise hypothesis's 200 ms per example: no wall-clock deadline in
# the suite (the properties are about results, not speed; speed is measured in bench/).
hypothesis_settings.register_profile("koronto", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "koronto"))


def pytest_sessionstart(session):
    if os.environ.get("KORONTO_REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"KORONTO_REQUIRE_SERVICES=1 but the database engine is {engine}", returncode=3)
    if not settings.REDIS_URL:
        pytest.exit("KORONTO_REQUIRE_SERVICES=1 but REDIS_URL is not set", returncode=3)
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis at {settings.REDIS_URL} cannot be reached: {exc}", returncode=3)


# --- The suite on any date (issue 13): tests marked `dated` run at the real date and at each of these,
# under time-machine (the wall clock moves on from there as usual). Month end at 23:59 Nairobi, the first
# minute of a year (still 31 December in UTC), a leap day, and a day after base 2014's last TID
# (2045-11-24 20:15), when a meter still on base 2014 can take no token.
_NAIROBI = ZoneInfo("Africa/Nairobi")
DATES = {
    "month-end": datetime(2026, 11, 30, 23, 59, tzinfo=_NAIROBI),
    "new-year": datetime(2027, 1, 1, 0, 0, 30, tzinfo=_NAIROBI),
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=_NAIROBI),
    "after-base-2014": datetime(2045, 11, 25, 10, 0, tzinfo=_NAIROBI),
}


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("dated"):
        metafunc.parametrize("wall_clock", ["today", *DATES], indirect=True)


@pytest.fixture(autouse=True)
def wall_clock(request):
    """None on the real date; else the instant the wall clock was moved to (first, before other fixtures).

    KORONTO_TEST_DATE=<one of DATES> moves every test there (the whole suite at one date, by hand; processes a
    test starts keep the real clock)."""
    name = getattr(request, "param", "today")
    if name == "today":
        name = os.environ.get("KORONTO_TEST_DATE", "today")
    if name == "today":
        yield None
        return
    import time_machine

    with time_machine.travel(DATES[name], tick=True):
        yield DATES[name]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """MD5 instead of PBKDF2's million rounds: each staff user a test creates cost about a second of CPU.

    Tests only (production keeps Django's default hashers); passwords are still hashed and checked, so a
    login with the wrong password still fails. Processes a test starts (Celery workers) never log anyone in.
    """
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def eager(settings):
    """Tasks run inline; a countdown is ignored, so the sandbox's callbacks arrive at once."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    for name in (
        "DARAJA_CONSUMER_KEY",
        "DARAJA_CONSUMER_SECRET",
        "DARAJA_SHORTCODE",
        "DARAJA_PASSKEY",
        "WAAFIPAY_MERCHANT_UID",
        "WAAFIPAY_API_USER_ID",
        "WAAFIPAY_API_KEY",
        "AT_USERNAME",
        "AT_API_KEY",
        "EDAHAB_API_KEY",
        "EDAHAB_API_SECRET",
        "EDAHAB_AGENT_CODE",
    ):
        setattr(settings, name, "")
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


_rate_limit_caches = itertools.count()


@pytest.fixture(autouse=True)
def _private_rate_limits(monkeypatch):
    """Each test counts rate-limit hits in a cache of its own.

    The counters otherwise live in the shared cache (Redis in CI) for an hour, so one test's
    purchases from a demo phone would rate-limit the next test that buys from the same phone.
    """
    from django.core.cache.backends.locmem import LocMemCache

    from vending import ratelimit

    monkeypatch.setattr(ratelimit, "cache", LocMemCache(f"ratelimit-test-{next(_rate_limit_caches)}", {}))
