"""Test-wide set-up: with KORONTO_REQUIRE_SERVICES=1 (CI), refuse to run on anything but Postgres and Redis."""

import os

import pytest


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
