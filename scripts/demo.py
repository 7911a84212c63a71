"""`make demo`: migrate, seed the demo data, then run web server, Celery worker and beat together.

Runs on the embedded default (SQLite, filesystem broker, sandbox wallet, console SMS) unless the
environment says otherwise. Ctrl-C stops all three.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("DEMO_HOST", "127.0.0.1")
PORT = os.environ.get("DEMO_PORT", "8000")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def wait_for_health(url: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEMO_MODE", "1")
    manage("migrate", "--noinput", "-v", "0")
    manage(
        "seed_demo",
        *(["--staff-password", os.environ["DEMO_ADMIN_PASSWORD"]] if os.environ.get("DEMO_ADMIN_PASSWORD") else []),
    )
    var = ROOT / "var"
    processes = [
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "-b",
                f"{HOST}:{PORT}",
                "-w",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
        ),
        subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "-c",
                "2",
                "-Q",
                "celery,payments",
                "-n",
                "demo@%h",
            ],
            cwd=ROOT,
        ),
        subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "beat", "-l", "info", "-s", str(var / "celerybeat-schedule")],
            cwd=ROOT,
        ),
    ]
    base = f"http://{HOST}:{PORT}"
    if wait_for_health(f"{base}/healthz"):
        print(
            f"\n  koronto is up.\n  Phone simulator: {base}/simulator/\n  Staff admin:     {base}/admin/"
            f"\n  Health:          {base}/healthz\n  Stop with Ctrl-C.\n",
            flush=True,
        )
    else:
        print(f"koronto did not answer {base}/healthz within 30 s; see the logs above.", flush=True)

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(process.poll() is None for process in processes):
        time.sleep(1)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
