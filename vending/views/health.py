"""GET /healthz: is each backing service answering, and is a worker alive? 200 when all are, else 503.

Concurrent probes never disturb each other: the cache check writes a key of its own per probe (one
shared key, written by every probe, made parallel probes read each other's values and fail), and the
workers check only reads the heartbeat rows the workers write (vending/heartbeat.py).
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from vending.heartbeat import workers_alive

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"healthz:probe:{uuid.uuid4().hex}"
    value = key[-12:]
    cache.set(key, value, 30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("cache did not return what was written")
    finally:
        cache.delete(key)


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


def _workers(results: dict[str, str]) -> dict[str, object]:
    """The workers part of the answer; a failed check when none was seen within the stale window."""
    if celery_app.conf.task_always_eager:  # tasks run inside the web process: no worker to wait for
        results["workers"] = "ok"
        return {"alive": 0, "last_seen_seconds": None, "eager": True}
    try:
        alive, last_seen = workers_alive(now=timezone.now())
    except Exception as exc:  # the database check reports the cause
        results["workers"] = f"down: {type(exc).__name__}"
        return {"alive": 0, "last_seen_seconds": None}
    window = settings.HEALTHZ_WORKER_STALE_SECONDS
    if alive:
        results["workers"] = "ok"
    else:
        results["workers"] = f"down: no worker seen for {window:g} s"
        logger.warning("healthz: no worker heartbeat within %g s", window)
    return {"alive": alive, "last_seen_seconds": last_seen}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure is a failed dependency, reported not raised
            logger.warning("healthz: %s is down: %s", name, type(exc).__name__)
            results[name] = f"down: {type(exc).__name__}"
    workers = _workers(results)
    healthy = all(value == "ok" for value in results.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "checks": results,
        "workers": workers,
        "demo_mode": settings.DEMO_MODE,
    }
    return JsonResponse(body, status=200 if healthy else 503)
