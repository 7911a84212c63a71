"""/healthz under concurrent probes, and the workers' heartbeat (controlled time; a real worker in e2e)."""

import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from vending.heartbeat import heartbeat_remove, heartbeat_write, workers_alive

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_no_worker_ever_seen_is_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["workers"] == "down: no worker seen for 60 s"
    assert body["workers"] == {"alive": 0, "last_seen_seconds": None}
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"


def test_503_once_the_last_heartbeat_is_60_seconds_old(client):
    heartbeat_write(hostname="celery@a", now=T0, started=True)
    heartbeat_write(hostname="celery@b", now=T0 - timedelta(seconds=30), started=True)
    with time_machine.travel(T0 + timedelta(seconds=29), tick=False):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["workers"] == {"alive": 2, "last_seen_seconds": 29.0}
    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json()["workers"]["alive"] == 1
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["workers"] == {"alive": 0, "last_seen_seconds": 60.0}


def test_a_heartbeat_updates_its_own_row_and_a_clean_stop_removes_it():
    heartbeat_write(hostname="celery@a", now=T0, started=True)
    heartbeat_write(hostname="celery@a", now=T0 + timedelta(seconds=10))
    assert workers_alive(now=T0 + timedelta(seconds=65)) == (1, 55.0)
    heartbeat_remove(hostname="celery@a")
    assert workers_alive(now=T0 + timedelta(seconds=11)) == (0, None)


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_probe_loops_never_get_a_false_503(live_server):
    from django.utils import timezone

    heartbeat_write(hostname="celery@probe-test", now=timezone.now() + timedelta(minutes=5), started=True)
    statuses: list[int] = []
    lock = threading.Lock()

    def loop() -> None:
        for _ in range(25):
            try:
                with urllib.request.urlopen(f"{live_server.url}/healthz", timeout=20) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=loop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 200
    assert statuses.count(200) == 200, {s: statuses.count(s) for s in set(statuses)}
