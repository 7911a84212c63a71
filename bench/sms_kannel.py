"""Token SMS through a real Kannel from two worker processes (issue 15): messages/s and CPU per message.

Each worker process runs koronto's own send path for queued token-SMS rows on a pool of threads, as a
`celery worker --pool threads -c 8` does (`sms_deliver`: the route table, the Kannel sender's sendsms GET
over a kept-alive connection per thread, the row's transition and its attempt record, one commit)
against a real bearerbox + smsbox whose SMSC is Kannel's fakesmsc (fakes/kannel_box.py). Kannel's
delivery reports come back to a small counter in this process, so the run also measures when the last
message was delivered to the (fake) phone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_sms .venv/bin/python bench/sms_kannel.py --n 4000

Prints one JSON line per round and the median of the rounds: `sent_per_second` (rows accepted by smsbox
per second of wall time), `delivered_per_second` (to the last "delivered" report), and the CPU time per
message of the two workers, of their Postgres backends and of Kannel (bearerbox + smsbox + fakesmsc),
read from /proc. The database is created if missing, migrated and FLUSHED: give it one of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SECRET = "bench-sms-secret"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class _Reports(ThreadingHTTPServer):
    """Counts Kannel's "delivered" reports (type 1) and notes when the last one arrived."""

    daemon_threads = True

    def __init__(self) -> None:
        self.delivered: set[str] = set()
        self.last_at = 0.0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(inner) -> None:  # the handler is `inner`; `self` is the server
                query = parse_qs(urlsplit(inner.path).query)
                if query.get("type") == ["1"]:
                    with self.lock:
                        self.delivered.add(query.get("id", [""])[0])
                        self.last_at = time.perf_counter()
                inner.send_response(200)
                inner.send_header("Content-Length", "2")
                inner.end_headers()
                inner.wfile.write(b"OK")

            def log_message(inner, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _worker(ids_file: str, ready_file: str, go_file: str, threads: str) -> None:
    """One worker process with a pool of `threads` (as `celery worker --pool threads -c N`): send its rows
    once `go_file` exists; print its CPU and that of its Postgres backends."""
    _django({})
    import queue

    from django.db import connection

    from vending.services.sms import sms_deliver

    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for sms_id in json.loads(Path(ids_file).read_text()):
        todo.put(sms_id)
    backends: list[tuple[int, float]] = []
    lock = threading.Lock()
    connected = threading.Barrier(int(threads) + 1)

    def run() -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                pid = cur.fetchone()[0]
            with lock:
                backends.append((pid, _cpu(pid)))
        connected.wait()
        while not Path(go_file).exists():
            time.sleep(0.005)
        while True:
            try:
                sms_id = todo.get_nowait()
            except queue.Empty:
                break
            sms_deliver(sms_id=sms_id)
        with lock:
            done.append(time.time())

    done: list[float] = []
    pool = [threading.Thread(target=run) for _ in range(int(threads))]
    for t in pool:
        t.start()
    connected.wait()
    Path(ready_file).write_text("1")
    while not Path(go_file).exists():
        time.sleep(0.005)
    cpu0 = time.process_time()
    for t in pool:
        t.join()
    db_cpu = sum(_cpu(pid) - before for pid, before in backends) if backends else None
    print(json.dumps({"cpu": time.process_time() - cpu0, "db_cpu": db_cpu, "done_at": max(done)}), flush=True)


def _queue_rows(n: int) -> list[int]:
    from vending import i18n
    from vending import texts as _texts  # noqa: F401  (registers the catalogue)
    from vending.models import SmsMessage
    from vending.sms import encoding
    from vending.states import SmsState

    rows = []
    for i in range(n):
        digits = f"{(i * 7919) % 10**20:020d}"
        text = i18n.render(
            "pipeline.token",
            "so",
            token=" ".join(digits[j : j + 4] for j in range(0, 20, 4)),
            kwh="10.0",
            currency="USD",
            amount="5.00",
            drn="0100000000016",
            ref=f"B{i:09d}",
            breakdown="",
        )
        rows.append(
            SmsMessage(
                direction="out",
                phone=f"+25261{i % 10**7:07d}",
                text=text,
                provider="router",
                status=SmsState.QUEUED,
                encoding=encoding.encoding_of(text),
                segments=encoding.segments(text),
            )
        )
    return [r.pk for r in SmsMessage.objects.bulk_create(rows, batch_size=1000)]


def run_round(
    n: int, workers: int, threads: int, box: object, reports: _Reports, env: dict[str, str], tmp: Path
) -> dict:
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    ids = _queue_rows(n)
    with reports.lock:
        reports.delivered.clear()
    go = tmp / "go"
    go.unlink(missing_ok=True)
    procs = []
    for w in range(workers):
        share = tmp / f"ids-{w}.json"
        share.write_text(json.dumps(ids[w::workers]))
        (tmp / f"ready-{w}").unlink(missing_ok=True)
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, "--worker", str(share), str(tmp / f"ready-{w}"), str(go), str(threads)],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    while not all((tmp / f"ready-{w}").exists() for w in range(workers)):
        time.sleep(0.01)
    kannel_pids = [p.pid for p in box._procs]  # type: ignore[attr-defined]
    kannel0 = sum(_cpu(pid) for pid in kannel_pids)
    start_wall, start = time.time(), time.perf_counter()
    go.write_text("1")
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    sent_seconds = max(r["done_at"] for r in results) - start_wall
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        with reports.lock:
            if len(reports.delivered) >= n:
                break
        time.sleep(0.02)
    with reports.lock:
        delivered, last_at = len(reports.delivered), reports.last_at
    kannel_cpu = sum(_cpu(pid) for pid in kannel_pids) - kannel0
    from vending.models import SmsMessage

    sent_rows = SmsMessage.objects.filter(status="sent", gateway="kannel").count()
    db_cpu = [r["db_cpu"] for r in results if r["db_cpu"] is not None]
    return {
        "n": n,
        "workers": workers,
        "threads": threads,
        "sent_rows": sent_rows,
        "delivered_reports": delivered,
        "sent_per_second": round(n / sent_seconds, 1),
        "delivered_per_second": round(delivered / (last_at - start), 1) if delivered else 0.0,
        "worker_cpu_ms_per_msg": round(1000 * sum(r["cpu"] for r in results) / n, 3),
        "postgres_cpu_ms_per_msg": round(1000 * sum(db_cpu) / n, 3) if db_cpu else None,
        "kannel_cpu_ms_per_msg": round(1000 * kannel_cpu / n, 3),
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(*sys.argv[2:6])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000, help="token SMS per round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (production: --pool threads -c 8)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ports", default="13100-13199", help="range for Kannel's ports")
    args = parser.parse_args()

    from fakes.kannel_box import KannelBox

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        from benchdb import ensure_database

        ensure_database(url)
    reports = _Reports()
    threading.Thread(target=reports.serve_forever, daemon=True).start()
    tmp = Path(f"/tmp/koronto-bench-sms-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    low, _, high = args.ports.partition("-")
    box = KannelBox(
        mo_url=f"{reports.base_url}/mo", port_range=(int(low), int(high)), log_level=3, workdir=tmp / "kannel"
    )
    box.workdir.mkdir(exist_ok=True)
    box.start()
    env = {
        **box.settings(),
        "SMS_ROUTES": "*=kannel",
        "PUBLIC_BASE_URL": reports.base_url,
        "WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "KORONTO_VAR_DIR": str(tmp / "var"),
    }
    try:
        _django(env)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        rounds = []
        for _ in range(args.rounds):
            result = run_round(args.n, args.workers, args.threads, box, reports, env, tmp)
            print(json.dumps(result), flush=True)
            rounds.append(result)
        keys = [k for k, v in rounds[0].items() if isinstance(v, float)]
        median = {k: statistics.median(r[k] for r in rounds) for k in keys}
        print(json.dumps({"median_of_rounds": args.rounds, **median}), flush=True)
    finally:
        box.stop()
        reports.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
