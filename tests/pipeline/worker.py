"""Start a real Celery worker for end-to-end tests, on the test database and a private broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
E2E_REDIS_DB = 14  # a Redis database of its own, so no other worker takes these tasks


def test_database_url() -> str:
    """The URL of the database pytest-django created (its NAME is the renamed test database)."""
    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def e2e_redis_url() -> str:
    if not settings.REDIS_URL:
        return ""
    return re.sub(r"/\d*$", "", settings.REDIS_URL.rstrip("/")) + f"/{E2E_REDIS_DB}"


class Broker:
    """Points this process's Celery at the same private broker the workers use."""

    def __init__(self) -> None:
        self.redis_url = e2e_redis_url()
        self.folder = tempfile.mkdtemp(prefix="koronto-e2e-broker-")
        self._saved = (celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options or {}))

    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.redis_url} if self.redis_url else {"CELERY_BROKER_DIR": self.folder}

    def attach(self) -> None:
        if self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()
            self._use(self.redis_url, {"visibility_timeout": 3600})
        else:
            for sub in ("out", "processed"):
                os.makedirs(os.path.join(self.folder, sub), exist_ok=True)
            out = os.path.join(self.folder, "out")
            self._use(
                "filesystem://",
                {
                    "data_folder_in": out,
                    "data_folder_out": out,
                    "processed_folder": os.path.join(self.folder, "processed"),
                },
            )

    def detach(self) -> None:
        self._use(*self._saved)

    @staticmethod
    def _use(url: str, options: dict) -> None:
        celery_app.conf.broker_url = url
        celery_app.conf.broker_transport_options = options
        # Drop pooled connections made for the previous broker.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


class Worker:
    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        concurrency: int = 2,
        pool: str = "prefork",
        queues: str = "celery,payments",
    ) -> None:
        full_env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_LEVEL": "INFO",
            **env,
        }
        if "REDIS_URL" not in env:
            full_env.pop("REDIS_URL", None)
        if "CELERY_BROKER_URL" not in env:
            full_env.pop("CELERY_BROKER_URL", None)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "--pool",
            pool,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"e2e-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)  # main process and pool children at once
            else:
                self.process.send_signal(sig)  # warm shutdown: the main process stops its children
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self._log.close()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
