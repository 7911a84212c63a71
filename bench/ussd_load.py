"""USSD load benchmark (issue 5): full purchase dialogues from many concurrent sessions, over HTTP.

gunicorn + Postgres + Redis, on loopback. Each simulated session dials the service code as a customer with
saved meters and plays the whole purchase exactly as Africa's Talking would post it (form fields,
cumulative `text`):

    dial → 1 (buy) → 1 (saved meter) → 500 (amount, quote) → 1 (confirm: purchase written, push enqueued)

then starts again as the next customer (a fresh phone number and sessionId). Every reply is checked
(CON…, and the END approve text on the last hop). Without --rate the sessions send each hop as soon as the
last reply arrives (saturation); with --rate they are paced like people reading their screens (see
`_drive`). The client is asyncio (on uvloop when installed) and sends each hop on a new connection when
the server closes it after every response, as gunicorn's sync workers do. It stops itself after
--warmup + --duration seconds and reports hops/s, dialogues/s and per-hop latency p50/p95/p99 for the
measured window only, with the CPU the server used per hop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_ussd REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/ussd_load.py --sessions 200 --duration 30 --rate 500

The database named in DATABASE_URL is created if missing, migrated and seeded (seed_demo, bench customers and
three months of purchase history); the Redis database in REDIS_URL is flushed: both are the bench's own,
never the development ones. gunicorn runs with bench/ussd_settings.py: koronto's settings, unchanged unless
an experiment flag asks otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import bench_meters, ensure_database, reset_for_bench  # noqa: E402 - bench/ is on sys.path when run as a script

SERVICE_CODE = "*384*44135#"
FIRST_PHONE = 254710000000  # +25471xxxxxxx: Safaricom numbers, one bench customer each
ANSWERS = ("1", "1", "500", "1")
APPROVE = "END Approve the M-Pesa prompt for KES 500"  # the last reply of every dialogue


def _prepare(customers: int, meters: int, redis_url: str) -> str:
    """Migrate, seed the demo utilities, `meters` Kenyan meters and `customers` bench customers (two saved meters
    each, spread so no meter gathers more than a realistic month of purchases); returns the webhook secret."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from vending.models import Customer, CustomerMeter, Meter

    reset_for_bench(
        redis_url=redis_url,
        tables=[
            "vending_auditevent",
            "vending_payment",
            "vending_providercallback",
            "vending_token",
            "vending_smsmessage",
            "vending_purchase",
        ],
    )
    drns = bench_meters(first=9_000_000_000, count=meters)
    meter_ids = list(Meter.objects.filter(drn__in=drns).order_by("drn").values_list("pk", flat=True))
    phones = [f"+{FIRST_PHONE + n}" for n in range(customers)]
    Customer.objects.bulk_create([Customer(phone=p) for p in phones], ignore_conflicts=True, batch_size=2000)
    ids = Customer.objects.filter(phone__in=phones).order_by("phone").values_list("pk", flat=True)
    CustomerMeter.objects.filter(customer_id__in=ids).delete()
    CustomerMeter.objects.bulk_create(
        [
            CustomerMeter(customer_id=pk, meter_id=meter_ids[(n + k) % len(meter_ids)], alias=alias)
            for n, pk in enumerate(ids)
            for k, alias in enumerate(("Home", "Shop"))
        ],
        batch_size=4000,
    )
    with connection.cursor() as cursor:
        # Three months of delivered purchases (four a meter a month), so the tables the quote reads are the
        # size of a running utility's: planned against a just-emptied table, a prepared statement keeps a
        # sequential scan that grows slower with every purchase the run adds.
        cursor.execute(
            _HISTORY_SQL,
            {"meters": meter_ids, "count": 12 * len(meter_ids), "first_phone": FIRST_PHONE, "customers": customers},
        )
        cursor.execute("ANALYZE")  # fresh statistics, so the planner uses the indexes from the start
    return settings.WEBHOOK_SECRET


_HISTORY_SQL = """
INSERT INTO vending_purchase (reference, idempotency_key, channel, payer_phone, wallet, amount, currency, language,
                              state, quote, failure_reason, created_at, updated_at, meter_id, fixed_charge)
SELECT 'H' || lpad(upper(to_hex(g)), 9, '0'), 'bench-history-' || g, 'ussd',
       '+' || (%(first_phone)s + g %% %(customers)s), 'mpesa', 500, 'KES', 'en', 'delivered', '{}'::jsonb, '',
       now() - (g %% 90) * interval '1 day', now() - (g %% 90) * interval '1 day',
       (%(meters)s::bigint[])[1 + g %% cardinality(%(meters)s::bigint[])], 0
  FROM generate_series(1, %(count)s) AS g
"""


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by `pids` (from /proc; vanished processes count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def _server_pids(master: int, database: str) -> dict[str, list[int]]:
    """The gunicorn workers under `master`, and the Postgres backends connected to `database`."""
    workers, backends = [], []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            workers.append(int(entry.name))
        elif cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            backends.append(int(entry.name))
    return {"gunicorn": workers, "postgres": backends}


_CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)")


class _Exchange(asyncio.Protocol):
    """One HTTP/1.1 request's response on a connection, read with as little client CPU as asyncio allows
    (the client shares the two cores with the server it measures)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.reply: asyncio.Future[tuple[int, bytes, bool]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.reply is None or self.reply.done():
            return
        head = bytes(self.buffer[:head_end]).lower()
        length = _CONTENT_LENGTH.search(head)
        if length is None:
            self.reply.set_exception(ValueError("response without Content-Length"))
            return
        length = int(length.group(1))
        if len(self.buffer) < head_end + 4 + length:
            return
        body = bytes(self.buffer[head_end + 4 : head_end + 4 + length])
        del self.buffer[: head_end + 4 + length]
        self.reply.set_result((int(head[9:12]), body, b"connection: close" in head))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(ConnectionError("connection closed before the response"))


class Connection:
    """HTTP/1.1 to the server: one keep-alive connection, reopened whenever the server closes it (gunicorn's
    sync workers close after every response, as a new connection per hop from an aggregator would)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.exchange: _Exchange | None = None
        self.loop = asyncio.get_running_loop()

    async def post(self, request: bytes) -> tuple[int, str]:
        for attempt in (1, 2):
            if self.exchange is None or self.exchange.transport is None:
                _, self.exchange = await self.loop.create_connection(_Exchange, self.host, self.port)
            exchange = self.exchange
            exchange.reply = self.loop.create_future()
            try:
                exchange.transport.write(request)  # type: ignore[union-attr]
                status, body, closing = await exchange.reply
            except ConnectionError:
                self.close()
                if attempt == 2:
                    raise
                continue
            if closing:
                self.close()
            return status, body.decode()
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.exchange is not None and self.exchange.transport is not None:
            self.exchange.transport.close()
        self.exchange = None


def hop_request(path: str, host: str, form: dict[str, str]) -> bytes:
    body = urlencode(form).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _drive(
    args: argparse.Namespace, secret: str, run_id: str, *, last_reply: str = APPROVE, first_customer: int = 0
) -> dict:
    """Drive the dialogues against the server on args.port (args.server_pid: its master). `last_reply` is what the
    confirm hop must start with (bench/floor.py's bare view answers every hop with `CON `); `first_customer`: where
    in the bench customers the dialogues start (bench/floor.py moves on, so that one run's several phases do not
    bring a phone past USSD_PURCHASES_PER_HOUR)."""
    path = f"/hooks/at/ussd/{secret}/"
    host = f"127.0.0.1:{args.port}"
    phones = itertools.count(first_customer)
    start = time.perf_counter()
    measure_from = start + args.warmup
    stop_at = measure_from + args.duration
    latencies: list[float] = []
    by_window: dict[int, list[float]] = {}  # p99 per 5 s of the measured window: is the tail steady or a burst?
    by_hop: dict[int, list[float]] = {hop: [] for hop in range(len(ANSWERS) + 1)}
    counts = {"hops": 0, "dialogues": 0, "errors": 0, "all_dialogues": 0}

    # --rate paces the sessions like people reading their screens: each sends a hop every
    # sessions/rate seconds (or as soon as its reply arrives, when the server falls behind that pace).
    # Sessions start at random points of a whole dialogue, not just of one interval: started in step, every
    # session would reach the heavy confirm hop in the same interval of each dialogue, a burst no crowd of
    # independent customers makes (all 200 confirms within 0.4 s at 500 hops/s).
    interval = args.sessions / args.rate if args.rate else 0.0
    dialogue_hops = len(ANSWERS) + 1

    async def session(n: int) -> None:
        connection = Connection("127.0.0.1", args.port)
        next_at = time.perf_counter() + random.uniform(0, interval * dialogue_hops)
        while time.perf_counter() < stop_at:
            phone = f"+{FIRST_PHONE + next(phones) % args.customers}"
            session_id = f"ATUid_{run_id}_{n}_{counts['all_dialogues']}"
            counts["all_dialogues"] += 1
            text, ok, began = "", True, time.perf_counter()
            for hop, answer in enumerate(("", *ANSWERS)):
                if hop:
                    text = answer if hop == 1 else f"{text}*{answer}"
                form = {
                    "sessionId": session_id,
                    "phoneNumber": phone,
                    "networkCode": "63902",
                    "serviceCode": SERVICE_CODE,
                    "text": text,
                }
                if interval:
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at = max(next_at + interval, time.perf_counter())
                request = hop_request(path, host, form)
                t0 = time.perf_counter()
                try:
                    status, reply = await connection.post(request)
                except (OSError, ValueError):  # ConnectionError is an OSError
                    status, reply = 0, ""
                t1 = time.perf_counter()
                expected = last_reply if hop == len(ANSWERS) else "CON "
                good = status == 200 and reply.startswith(expected)
                if measure_from <= t0 and t1 <= stop_at:
                    latencies.append(t1 - t0)
                    by_window.setdefault(int((t0 - measure_from) // 5), []).append(t1 - t0)
                    by_hop[hop].append(t1 - t0)
                    counts["hops"] += 1
                    counts["errors"] += not good
                if not good:
                    ok = False
                    break
            if ok and measure_from <= began and time.perf_counter() <= stop_at:
                counts["dialogues"] += 1
        connection.close()

    cpu: dict[str, float] = {}

    async def sample_cpu() -> None:
        # CPU seconds spent in the measured window by the server (workers, database backends) and this client:
        # a per-hop cost that holds even when other jobs share the machine and wall-clock rates swing.
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        pids = _server_pids(args.server_pid, args.database)
        before = {name: {pid: _cpu_seconds([pid]) for pid in p} for name, p in pids.items()}
        client_before = time.process_time()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        after = {
            name: {pid: _cpu_seconds([pid]) for pid in p}
            for name, p in _server_pids(args.server_pid, args.database).items()
        }
        # A process gone by the end (a database connection closed) counts nothing (its part of the window is lost,
        # never counted negative); one that started in the window (a connection reopened after CONN_MAX_AGE)
        # counts whole: it used nothing before.
        cpu.update(
            {
                name: sum(max(0.0, used - before[name].get(pid, 0.0)) for pid, used in after[name].items())
                for name in after
            }
        )
        cpu["client"] = time.process_time() - client_before

    await asyncio.gather(sample_cpu(), *(session(n) for n in range(args.sessions)))
    latencies.sort()

    def pct(p: float, values: list[float] = latencies) -> float:
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000, 1)

    names = ("dial", "menu 1", "pick meter", "amount+quote", "confirm+purchase")
    per_hop = {
        name: {"p50_ms": pct(50, sorted(v)), "p99_ms": pct(99, sorted(v))}
        for name, v in zip(names, by_hop.values(), strict=True)
        if v
    }

    return {
        "sessions": args.sessions,
        "target_rate": args.rate or "max",
        "gunicorn": f"{args.workers} {args.worker_class} workers x {args.threads} threads",
        "duration_s": args.duration,
        "hops": counts["hops"],
        "hops_per_s": round(counts["hops"] / args.duration, 1),
        "dialogues_per_s": round(counts["dialogues"] / args.duration, 1),
        "errors": counts["errors"],
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "dialogues_started": counts["all_dialogues"],
        "per_hop": per_hop,
        "p99_ms_by_5s": [pct(99, sorted(by_window[w])) for w in sorted(by_window)],
        "cpu_ms_per_hop": {name: round(seconds * 1000 / max(counts["hops"], 1), 2) for name, seconds in cpu.items()},
    }


def _run_client(main: Any) -> Any:
    """Run the client on uvloop when it is installed (about half asyncio's CPU per hop), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 503:  # up; /healthz is 503 only because the bench runs no Celery worker
                return
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout} s")


def start_server(args: argparse.Namespace, port: int, env: dict[str, str]) -> subprocess.Popen:
    """gunicorn on `port` with the bench's configuration (args.workers, args.worker_class, args.threads) and the
    settings module named in env's DJANGO_SETTINGS_MODULE; returns once /healthz answers."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.workers),
            "-k",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--backlog",
            "2048",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", 30)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=200, help="concurrent USSD sessions")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument("--rate", type=float, default=0, help="offered hops/s over all sessions (0: no pauses)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10,
        help="seconds driven but not measured (cold processes, first connections and queries)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument(
        "--worker-class",
        default="sync",
        choices=["sync", "gthread"],
        help="sync: one request at a time per worker, all workers taking connections from one "
        "queue; gthread: keep-alive connections, each kept by the worker that accepted it",
    )
    parser.add_argument("--customers", type=int, default=50_000, help="bench customers (one phone each)")
    parser.add_argument("--meters", type=int, default=5_000, help="meters the customers' purchases spread over")
    parser.add_argument("--port", type=int, default=18_905)
    parser.add_argument(
        "--no-health-checks",
        action="store_true",
        help="experiment: CONN_HEALTH_CHECKS off in the server (bench/ussd_settings.py)",
    )
    parser.add_argument(
        "--no-prepared-statements",
        action="store_true",
        help="experiment: DB_PREPARED_STATEMENTS=0, Postgres plans every statement every time",
    )
    args = parser.parse_args()
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring)", file=sys.stderr)
        return 2
    os.environ.update({"LOG_LEVEL": "WARNING", "USSD_SERVICE_CODES": SERVICE_CODE})
    ensure_database(db_url)
    secret = _prepare(args.customers, args.meters, redis_url)

    from vending.models import Purchase

    run_id = f"{int(time.time())}"
    before = Purchase.objects.count()
    server_env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.ussd_settings",
        "USSD_BENCH_NO_HEALTH_CHECKS": "1" if args.no_health_checks else "0",
        "DB_PREPARED_STATEMENTS": "0" if args.no_prepared_statements else "1",
    }
    server = start_server(args, args.port, server_env)
    args.server_pid, args.database = server.pid, urlsplit(db_url).path.lstrip("/")
    try:
        load_before = os.getloadavg()[0]
        result = _run_client(_drive(args, secret, run_id))
        result["experiments"] = [
            name
            for name, on in (
                ("no-health-checks", args.no_health_checks),
                ("no-prepared-statements", args.no_prepared_statements),
            )
            if on
        ]
        result["loadavg_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        server_ms = result["cpu_ms_per_hop"].get("gunicorn", 0) + result["cpu_ms_per_hop"].get("postgres", 0)
        # What two dedicated cores could serve if the server alone used them (no client, no neighbours).
        result["server_capacity_hops_per_s_on_2_cores"] = round(2000 / server_ms) if server_ms else None
    finally:
        stop_server(server)
    result["purchases_written"] = Purchase.objects.count() - before
    print(json.dumps(result))
    print(
        f"{result['sessions']} sessions at rate {result['target_rate']}, {result['gunicorn']}: "
        f"{result['hops_per_s']} hops/s "
        f"({result['dialogues_per_s']} purchase dialogues/s), p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}; "
        f"server CPU {result['cpu_ms_per_hop']} ms/hop → ~{result['server_capacity_hops_per_s_on_2_cores']} hops/s "
        f"on 2 dedicated cores; load average {result['loadavg_1min_before_after']}"
        + (f"; experiments {result['experiments']}" if result["experiments"] else "")
    )
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
