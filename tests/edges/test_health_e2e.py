"""/healthz with a real Celery worker: 200 while its heartbeat is fresh, 503 soon after it is SIGKILLed.

The windows are shortened (heartbeat every 0.5 s, stale after 3 s) so the test does not wait a minute;
tests/edges/test_health.py checks the 60 s default at controlled time.
"""

import signal
import time
import urllib.error
import urllib.request

import pytest

from tests.pipeline.worker import Broker, Worker, wait_until
from vending.models import WorkerHeartbeat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STALE_SECONDS = 3.0


def _probe(url: str) -> tuple[int, dict]:
    import json

    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_healthz_follows_a_real_worker_and_turns_503_after_it_is_killed(live_server, settings, tmp_path):
    settings.HEALTHZ_WORKER_STALE_SECONDS = STALE_SECONDS
    broker = Broker()
    broker.attach()
    worker = Worker({**broker.env(), "WORKER_HEARTBEAT_INTERVAL_SECONDS": "0.5"}, tmp_path / "worker.log")
    try:
        url = f"{live_server.url}/healthz"
        assert _probe(url)[0] == 503  # no worker yet
        wait_until(lambda: WorkerHeartbeat.objects.exists(), 60, "the worker's first heartbeat")
        status, body = _probe(url)
        assert status == 200, body
        assert body["workers"]["alive"] == 1 and body["checks"]["workers"] == "ok"
        first = WorkerHeartbeat.objects.get().seen_at
        wait_until(lambda: WorkerHeartbeat.objects.get().seen_at > first, 10, "a second heartbeat")

        worker.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        while True:
            status, body = _probe(url)
            if status == 503:
                break
            assert time.monotonic() - killed_at < STALE_SECONDS + 2, "still 200 long after the worker died"
            time.sleep(0.1)
        assert body["checks"]["workers"].startswith("down")
        assert {k: v for k, v in body["checks"].items() if k != "workers"} == {
            "database": "ok",
            "cache": "ok",
            "broker": "ok",
        }
        assert WorkerHeartbeat.objects.count() == 1  # SIGKILL: no clean stop removed the row
    finally:
        worker.kill()
        broker.detach()
    assert "Traceback" not in worker.log()
