"""GET /healthz: is each backing service answering? 200 when all are, 503 when one is not."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = "healthz:probe"
    value = str(time.monotonic())
    cache.set(key, value, 30)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@require_GET
def healthz(request):
    results: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure is a failed dependency, reported not raised
            logger.warning("healthz: %s is down: %s", name, type(exc).__name__)
            results[name] = f"down: {type(exc).__name__}"
    healthy = all(value == "ok" for value in results.values())
    body = {"status": "ok" if healthy else "degraded", "checks": results, "demo_mode": settings.DEMO_MODE}
    return JsonResponse(body, status=200 if healthy else 503)
