"""Each Celery worker says it is alive every few seconds; /healthz counts the workers seen lately.

A worker is a bootstep (`install`, hooked up in config/celery.py) that writes its row of
WorkerHeartbeat from the worker's own timer: at start, then every WORKER_HEARTBEAT_INTERVAL_SECONDS,
and removes it on a clean shutdown. A worker killed with SIGKILL, or one whose process exited, stops
writing, so its row ages; /healthz answers 503 when no row is younger than HEALTHZ_WORKER_STALE_SECONDS.

The row lives in the database, not the cache, so a Redis outage does not make every worker look dead,
and each worker writes only its own row (no shared key that concurrent writers overwrite).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, bootsteps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

log = logging.getLogger(__name__)


def heartbeat_write(*, hostname: str, now: datetime, started: bool = False) -> None:
    """Record that `hostname` was alive at `now` (`started`: it has just started, reset its start time)."""
    from vending.models import WorkerHeartbeat

    defaults: dict[str, Any] = {"seen_at": now}
    if started:
        defaults["started_at"] = now
    with transaction.atomic():
        WorkerHeartbeat.objects.update_or_create(
            hostname=hostname, defaults=defaults, create_defaults={"seen_at": now, "started_at": now}
        )


def heartbeat_remove(*, hostname: str) -> None:
    from vending.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def workers_alive(*, now: datetime) -> tuple[int, float | None]:
    """(how many workers were seen within the stale window, seconds since the latest one was seen)."""
    from vending.models import WorkerHeartbeat

    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if latest is None:
        return 0, None
    since = now - timedelta(seconds=settings.HEALTHZ_WORKER_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(seen_at__gt=since).count()
    return alive, round((now - latest).total_seconds(), 1)


def _safely(action: str, hostname: str, write: Any) -> None:
    # Never let a heartbeat take the worker down: a database outage shows up as an ageing row instead.
    # The connection is closed after each write because this runs in the worker's main process (prefork
    # children must not inherit an open connection) and only every few seconds.
    try:
        write()
    except DatabaseError as exc:
        log.warning("worker heartbeat (%s) for %s failed: %s", action, hostname, type(exc).__name__)
    finally:
        connection.close()


class Heartbeat(bootsteps.StartStopStep):
    """Worker bootstep: a repeating timer entry that writes this worker's heartbeat row."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        hostname = worker.hostname
        _safely("start", hostname, lambda: heartbeat_write(hostname=hostname, now=timezone.now(), started=True))
        self.tref = worker.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_INTERVAL_SECONDS, self.beat, (hostname,), priority=10
        )

    @staticmethod
    def beat(hostname: str) -> None:
        _safely("beat", hostname, lambda: heartbeat_write(hostname=hostname, now=timezone.now()))

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        _safely("stop", worker.hostname, lambda: heartbeat_remove(hostname=worker.hostname))


def install(app: Celery) -> None:
    """Add the heartbeat to every worker of `app`."""
    app.steps["worker"].add(Heartbeat)
