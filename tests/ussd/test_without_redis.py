"""USSD with Redis (sessions, rate limits) down or hung: an END "please try again" in the caller's language
within a second, and the next dial after Redis is back works. A real redis-server of the test's own."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.ussd.screens import HOME
from vending import ratelimit

BUSY_SW = (
    "END Samahani, huduma ina shughuli nyingi. Hakuna pesa iliyokatwa. Tafadhali jaribu tena baada ya dakika moja."
)


def _port() -> int:
    if os.environ.get("KORONTO_TEST_REDIS_PORT"):
        return int(os.environ["KORONTO_TEST_REDIS_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (.ci/run installs it)"
        self.binary, self.folder, self.port = binary, folder, _port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(settings, tmp_path, monkeypatch):
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "KEY_PREFIX": "noredis",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    monkeypatch.setattr(ratelimit, "cache", cache)  # the real limiter, on this Redis
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
        server.kill()


def _timed(phone) -> tuple[str, float]:
    started = time.monotonic()
    reply = phone.dial()
    return reply, time.monotonic() - started


def test_redis_down_answers_try_again_in_the_callers_language_and_recovers(own_redis, swahili_phone, clock):
    assert swahili_phone.dial().startswith("CON ")
    own_redis.kill()
    reply, seconds = _timed(swahili_phone)
    assert reply == BUSY_SW
    assert seconds < 1.0
    own_redis.start()  # same port: the next dial works without restarting koronto
    assert swahili_phone.dial().startswith("CON ")
    assert swahili_phone.send("1").startswith("CON ")


def test_a_hung_redis_answers_within_the_socket_timeout(own_redis, phone, clock):
    assert phone.dial() == HOME
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        reply, seconds = _timed(phone)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert reply == "END Sorry, the service is busy. No money was taken. Please try again in a minute."
    assert seconds < 1.0
    assert phone.dial() == HOME
