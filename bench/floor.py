"""Cost against the machine's own floor (issue 18): each real operation's CPU as a multiple of the cheapest
operation of the same kind, both measured in one run on the same machine, so the ratio carries from one
machine to the next where absolute rates do not.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_floor REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/floor.py all --rounds 3

`web`: the USSD hop against the web floor. Two gunicorns with the same configuration (bench/ussd_load.py's:
`--workers` sync workers), one serving koronto (bench/ussd_settings.py), one serving a bare view on the same
path (bench/floor_settings.py: one form field read, a `CON …` reply, only the middleware a USSD hop needs),
driven in turn by the same client, dialogues and pacing (bench/ussd_load.py's). Database `<name>_ussd`.
`task`: the vend against the task floor. The same Celery workers (bench/pipeline_bench.py's: `--workers`
processes, `--pool threads -c 8`) run, in turn, N bare tasks (bench/floor_tasks.py: load one row, write three,
commit, one HTTP POST to the fake AT server) and N real vends (pipeline_bench's burst: stored "paid" callback →
confirm → vend → token SMS), then the steady phase at `--rate`. Database `<name>_pipeline`.
`api`: the partner API's float purchase (bench/api_bench.py's terminals, --api-rate offered) against the same
web floor as `web`, behind the same gunicorn configuration, alternately in every round. Database `<name>_api`.
`all`: web, task and api, one after the other, each in a process of its own (about 10 minutes at --rounds 3).
`memory` (memory-web, then memory-task): one gunicorn worker through --memory-ops USSD hops and one Celery
worker through --memory-ops vends, each in --memory-steps slices with its RSS after each (does it grow after
the first?), and the Redis memory of --memory-sessions dialogues open at once (about 4 minutes).

Each round measures floor then real; every line printed is one phase of one round (JSON), then the ratios of
each round and their median: gunicorn (or worker) CPU per operation of the real operation divided by the
floor's, Postgres CPU per operation beside it (the web floor touches no database, so its Postgres figure is
the real hop's alone), wall-clock rates and latency percentiles, and the RSS of every gunicorn / Celery worker
after each round (does it grow after the first?). `web` also reports the Redis memory of the USSD session
records left by the run. The databases are created if missing and FLUSHED, the Redis database flushed: give the
bench its own. `--profile DIR` records the last round's real phase of one worker with py-spy (a dev tool) into
DIR, summarised by bench/profile_top.py.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pipeline_bench  # noqa: E402 - bench/ is on sys.path
import ussd_load  # noqa: E402
from benchdb import ensure_database  # noqa: E402


def _rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _gunicorn_workers(master: int) -> list[int]:
    return ussd_load._server_pids(master, "-")["gunicorn"]


def _profile(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """py-spy sampling `pid` for `seconds` without stopping it: collapsed stacks of the threads holding the GIL
    (Python CPU; a thread waiting on a socket in psycopg or redis-py would otherwise count as busy)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "200",
            "--nonblocking",
            "--gil",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _ratio(real: float, floor: float) -> float | None:
    return round(real / floor, 2) if floor else None


def _summary(kind: str, rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    medians = {
        key: round(statistics.median(r[key] for r in rows), 2)
        for key in keys
        if all(r.get(key) is not None for r in rows)
    }
    return {"median_of_rounds": len(rows), "kind": kind, **medians}


# --- web: USSD hop against the bare view ------------------------------------------------------------------------


def web(args: argparse.Namespace) -> int:
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    os.environ.update({"LOG_LEVEL": "WARNING", "USSD_SERVICE_CODES": ussd_load.SERVICE_CODE})
    ensure_database(db_url)
    secret = ussd_load._prepare(args.customers, args.meters, redis_url)
    args.database = urlsplit(db_url).path.lstrip("/")
    args.threads, args.worker_class = 1, "sync"
    base_env = os.environ | {"USSD_BENCH_NO_HEALTH_CHECKS": "0", "DB_PREPARED_STATEMENTS": "1"}
    kinds = {"floor": ("bench.floor_settings", {}), "real": ("bench.ussd_settings", {})}
    if args.compare_middleware:  # before/after config/hooks_wsgi.py, in the same run
        kinds |= {
            "floor_full_middleware": ("bench.floor_settings", {"USSD_FLOOR_FULL_MIDDLEWARE": "1"}),
            "real_full_middleware": ("bench.ussd_settings", {"USSD_BENCH_FULL_MIDDLEWARE": "1"}),
        }
    servers = {}
    try:
        for offset, (kind, (module, extra)) in enumerate(kinds.items()):
            servers[kind] = ussd_load.start_server(
                args, args.port + offset, base_env | {"DJANGO_SETTINGS_MODULE": module} | extra
            )
        results: list[dict[str, Any]] = []
        memory: dict[str, Any] = {}
        served = dict.fromkeys(kinds, 0)
        customer = 0  # the next bench customer to dial: each phase goes on from the last one's
        for number in range(1, args.rounds + 1):
            for offset, kind in enumerate(kinds):
                drive = argparse.Namespace(**vars(args))
                drive.port, drive.server_pid = args.port + offset, servers[kind].pid
                sampler = None
                if kind == "real" and number == args.rounds:
                    # the session records while the dialogues are live: 1 s before the last window closes
                    sampler = threading.Timer(
                        args.warmup + args.duration - 1, lambda: memory.update(_session_memory(redis_url))
                    )
                    sampler.start()
                profiler = None
                if args.profile and kind == "real" and number == args.rounds:
                    profiler = _profile(
                        _gunicorn_workers(drive.server_pid)[0],
                        args.warmup + args.duration,
                        Path(args.profile) / "gunicorn-worker.txt",
                    )
                load_before = os.getloadavg()[0]
                result = ussd_load._run_client(
                    ussd_load._drive(
                        drive,
                        secret,
                        f"{int(time.time())}{kind[0]}{number}",
                        last_reply=ussd_load.APPROVE if kind.startswith("real") else "CON ",
                        first_customer=customer,
                    )
                )
                customer = (customer + result["dialogues_started"]) % args.customers
                if profiler is not None:
                    profiler.wait(timeout=60)
                if sampler is not None:
                    sampler.join()
                cpu = result.pop("cpu_ms_per_hop")
                served[kind] += result["dialogues_started"] * len(("", *ussd_load.ANSWERS))
                row = {
                    "round": number,
                    "kind": kind,
                    "hops_per_s": result["hops_per_s"],
                    "errors": result["errors"],
                    "p50_ms": result["p50_ms"],
                    "p95_ms": result["p95_ms"],
                    "p99_ms": result["p99_ms"],
                    "gunicorn_cpu_ms": cpu.get("gunicorn"),
                    "postgres_cpu_ms": cpu.get("postgres") if kind.startswith("real") else 0.0,
                    "client_cpu_ms": cpu.get("client"),
                    "hops_served_so_far": served[kind],  # warm-up included, by all the server's workers
                    "worker_rss_mib": [
                        round(_rss_kib(pid) / 1024, 1) for pid in sorted(_gunicorn_workers(drive.server_pid))
                    ],
                    "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
                results.append(row)
                print(json.dumps(row), flush=True)
        print(json.dumps({"redis_sessions_live": memory}), flush=True)
    finally:
        for server in servers.values():
            ussd_load.stop_server(server)
    ratios = []
    for number in range(1, args.rounds + 1):
        by_kind = {r["kind"]: r for r in results if r["round"] == number}
        floor, real = by_kind["floor"], by_kind["real"]
        ratio = {
            "round": number,
            "hop_vs_floor_gunicorn_cpu": _ratio(real["gunicorn_cpu_ms"], floor["gunicorn_cpu_ms"]),
            "floor_gunicorn_cpu_ms": floor["gunicorn_cpu_ms"],
            "hop_gunicorn_cpu_ms": real["gunicorn_cpu_ms"],
            "hop_postgres_cpu_ms": real["postgres_cpu_ms"],
            "hop_server_cpu_vs_floor": _ratio(
                real["gunicorn_cpu_ms"] + real["postgres_cpu_ms"], floor["gunicorn_cpu_ms"]
            ),
            "floor_hops_per_s": floor["hops_per_s"],
            "hop_hops_per_s": real["hops_per_s"],
            "floor_p99_ms": floor["p99_ms"],
            "hop_p99_ms": real["p99_ms"],
        }
        if "floor_full_middleware" in by_kind:
            before = by_kind["real_full_middleware"]
            ratio.update(
                {
                    "full_middleware_floor_gunicorn_cpu_ms": by_kind["floor_full_middleware"]["gunicorn_cpu_ms"],
                    "full_middleware_hop_gunicorn_cpu_ms": before["gunicorn_cpu_ms"],
                    "full_middleware_hop_vs_floor_gunicorn_cpu": _ratio(
                        before["gunicorn_cpu_ms"], floor["gunicorn_cpu_ms"]
                    ),
                }
            )
        ratios.append(ratio)
        print(json.dumps({"ratios": ratio}))
    print(json.dumps(_summary("web", ratios, [k for k in ratios[0] if k != "round"])))
    return 0 if all(r["errors"] == 0 for r in results) else 1


def _session_memory(redis_url: str) -> dict[str, Any]:
    """Redis memory of the USSD session records the run left (session + the phone's place record): MEMORY USAGE
    of every record, per session, with how many were still open (not ended) when the run stopped."""
    import redis

    client = redis.Redis.from_url(redis_url)
    sizes: dict[str, list[int]] = {"session": [], "open_session": [], "place": []}
    keys = list(client.scan_iter(match="*ussd:v2:*", count=5000))
    for start in range(0, len(keys), 1000):  # pipelined: the scan runs while the dialogues do
        batch = keys[start : start + 1000]
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            pipe.get(key)
        replies = pipe.execute()
        for key, size, raw in zip(batch, replies[::2], replies[1::2], strict=True):
            if size is None or raw is None:  # expired or deleted meanwhile
                continue
            if b":place:" in key:
                sizes["place"].append(size)
                continue
            sizes["session"].append(size)
            if b'"ended":false' in raw:
                sizes["open_session"].append(size)
    sessions = len(sizes["session"])
    total = sum(sizes["session"]) + sum(sizes["place"])
    return {
        "redis_session_records": sessions,
        "open_sessions": len(sizes["open_session"]),
        "place_records": len(sizes["place"]),
        "bytes_per_session_record_mean": round(statistics.fmean(sizes["session"])) if sessions else None,
        "bytes_per_open_session_record_mean": (
            round(statistics.fmean(sizes["open_session"])) if sizes["open_session"] else None
        ),
        "bytes_per_place_record_mean": round(statistics.fmean(sizes["place"])) if sizes["place"] else None,
        "kib_per_1000_sessions_all_records": round(total / max(sessions, 1) * 1000 / 1024, 1),
        "kib_per_1000_live_sessions": (
            round((statistics.fmean(sizes["open_session"]) + statistics.fmean(sizes["place"])) * 1000 / 1024, 1)
            if sizes["open_session"] and sizes["place"]
            else None
        ),
        "used_memory_mib": round(int(client.info("memory")["used_memory"]) / 2**20, 1),
    }


# --- task: vend against the bare task ---------------------------------------------------------------------------


def task(args: argparse.Namespace) -> int:
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    fake_at, at_url = pipeline_bench.prepare_environment(db_url, redis_url)
    from django.db import connection

    from bench.floor_tasks import CREATE_SQL, floor_task
    from config.celery import app as celery_app
    from fakes.africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME
    from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility

    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL)
        cursor.execute("TRUNCATE bench_floor_source, bench_floor_row")
        cursor.execute(
            "INSERT INTO bench_floor_source SELECT g, lpad(g::text, 11, '0'), 20 FROM generate_series(1, %s) AS g",
            [args.meters],
        )
    utility = make_utility("KE", "KES")
    group = make_supply_group(utility)
    tariff = make_flat_tariff(utility, price="20")
    meters = [make_meter(supply_group=group, tariff=tariff) for _ in range(args.meters)]
    run = f"{int(time.time()) % 10_000:04d}"
    steady_n = round(args.rate * args.steady_seconds)
    rounds = [
        (
            pipeline_bench._prepare(args.n, meters, f"B{run}{r}"),
            pipeline_bench._prepare(steady_n, meters, f"S{run}{r}") if steady_n else None,
        )
        for r in range(args.rounds)
    ]
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    workers = pipeline_bench.start_workers(args, env, run, include=("bench.floor_tasks",))
    results: list[dict[str, Any]] = []

    def record(row: dict[str, Any]) -> None:
        row["worker_rss_mib"] = [round(_rss_kib(w.pid) / 1024, 1) for w in workers]
        row["load_1min"] = round(os.getloadavg()[0], 2)
        results.append(row)
        print(json.dumps(row), flush=True)

    vends = 0
    try:
        time.sleep(4)  # workers up before the clock starts
        for number, ((burst_refs, burst_bodies), steady) in enumerate(rounds, 1):
            # floor: N bare tasks, all at once (as the burst)
            before = pipeline_bench._cpu_snapshot(workers)
            first_op = (number - 1) * args.n
            with celery_app.producer_or_acquire() as producer:
                for op in range(first_op, first_op + args.n):
                    floor_task.apply_async(
                        args=[op, 1 + op % args.meters, at_url, FAKE_AT_USERNAME, FAKE_AT_API_KEY, time.time()],
                        producer=producer,
                    )
            row = _wait_floor(first_op, args.n, args.timeout)
            time.sleep(0.3)  # the last tasks' POSTs, after their commit
            cpu = pipeline_bench._cpu_ms_per_vend(before, pipeline_bench._cpu_snapshot(workers), args.n)
            record({"round": number, "kind": "floor", **row, **cpu})
            profiler = None
            if args.profile and number == args.rounds:
                profiler = _profile(workers[0].pid, args.profile_seconds, Path(args.profile) / "celery-worker.txt")
            before = pipeline_bench._cpu_snapshot(workers)
            pipeline_bench._burst(burst_bodies)
            pipeline_bench._wait(burst_refs, args.timeout)
            cpu = pipeline_bench._cpu_ms_per_vend(before, pipeline_bench._cpu_snapshot(workers), len(burst_refs))
            vends += len(burst_refs)
            record(
                {
                    "round": number,
                    "kind": "vend_burst",
                    **_vend_row(pipeline_bench._measure("burst", burst_refs, None)),
                    **cpu,
                }
            )
            if profiler is not None:
                profiler.wait(timeout=120)
            if steady:
                steady_refs, steady_bodies = steady
                before = pipeline_bench._cpu_snapshot(workers)
                offered = pipeline_bench._steady(steady_bodies, args.rate, args.feeders)
                pipeline_bench._wait(steady_refs, args.timeout)
                cpu = pipeline_bench._cpu_ms_per_vend(before, pipeline_bench._cpu_snapshot(workers), len(steady_refs))
                vends += len(steady_refs)
                record(
                    {
                        "round": number,
                        "kind": "vend_steady",
                        **_vend_row(pipeline_bench._measure("steady", steady_refs, offered)),
                        **cpu,
                        "vends_so_far": vends,
                    }
                )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        fake_at.terminate()
        fake_at.wait(timeout=10)
    ratios = []
    for number in range(1, args.rounds + 1):
        by_kind = {r["kind"]: r for r in results if r["round"] == number}
        floor, real = by_kind["floor"], by_kind["vend_burst"]
        ratio = {
            "round": number,
            "vend_vs_floor_worker_cpu": _ratio(real["workers_cpu_ms_per_vend"], floor["workers_cpu_ms_per_vend"]),
            "vend_vs_floor_postgres_cpu": _ratio(real["postgres_cpu_ms_per_vend"], floor["postgres_cpu_ms_per_vend"]),
            "floor_worker_cpu_ms": floor["workers_cpu_ms_per_vend"],
            "floor_postgres_cpu_ms": floor["postgres_cpu_ms_per_vend"],
            "vend_worker_cpu_ms": real["workers_cpu_ms_per_vend"],
            "vend_postgres_cpu_ms": real["postgres_cpu_ms_per_vend"],
            "floor_per_s": floor.get("per_second"),
            "vend_burst_per_s": real.get("per_second"),
            "floor_p95_s": floor.get("p95_s"),
            "vend_burst_p95_s": real.get("p95_s"),
        }
        if "vend_steady" in by_kind:
            steady_row = by_kind["vend_steady"]
            ratio.update(
                {
                    "vend_steady_per_s": steady_row.get("per_second"),
                    "vend_steady_p50_s": steady_row.get("p50_s"),
                    "vend_steady_p95_s": steady_row.get("p95_s"),
                    "vend_steady_worker_cpu_ms": steady_row["workers_cpu_ms_per_vend"],
                }
            )
        ratios.append(ratio)
        print(json.dumps({"ratios": ratio}))
    print(json.dumps(_summary("task", ratios, [k for k in ratios[0] if k != "round"])))
    complete = all(r.get("completed", r.get("n")) == r.get("n") for r in results)
    return 0 if complete else 1


def _vend_row(measured: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": measured["n"],
        "completed": measured["completed"],
        "per_second": measured.get("vends_per_second"),
        "offered_per_second": measured.get("offered_per_second"),
        "p50_s": measured.get("p50_callback_to_sms_seconds"),
        "p95_s": measured.get("p95_callback_to_sms_seconds"),
    }


def _wait_floor(first_op: int, n: int, timeout: float) -> dict[str, Any]:
    """Wait for the floor tasks' commits; their rate and enqueue → commit latency (the POST follows the commit)."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    query = (
        "SELECT count(*), min(enqueued_at), max(extract(epoch FROM done_at)) FROM bench_floor_row "
        "WHERE kind = 3 AND op >= %s AND op < %s"
    )
    while True:
        with connection.cursor() as cursor:
            cursor.execute(query, [first_op, first_op + n])
            done, first, last = cursor.fetchone()
        if done >= n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM done_at) - enqueued_at FROM bench_floor_row "
            "WHERE kind = 3 AND op >= %s AND op < %s ORDER BY 1",
            [first_op, first_op + n],
        )
        latencies = [float(row[0]) for row in cursor.fetchall()]
    row: dict[str, Any] = {"n": n, "completed": done}
    if latencies:
        row.update(
            {
                "per_second": round(done / max(float(last) - float(first), 1e-9), 1),
                "p50_s": round(latencies[len(latencies) // 2], 3),
                "p95_s": round(latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)], 3),
            }
        )
    return row


# --- api: the partner API's float purchase against the same bare view --------------------------------------------


def api(args: argparse.Namespace) -> int:
    """The float purchase (POST /api/v1/purchases, answered with its token) against the web floor: the bare view of
    `web`, behind the same gunicorn configuration, in the same run; each driven by its own client (the USSD
    dialogues for the floor, bench/api_bench.py's terminals for the API), alternately in every round."""
    import api_bench

    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    os.environ.update({"LOG_LEVEL": "WARNING"})
    ensure_database(db_url)
    drns, keys = api_bench._prepare(
        meters=args.api_meters, agents=args.api_terminals, terminals=args.api_terminals, redis_url=redis_url
    )
    args.database = urlsplit(db_url).path.lstrip("/")
    args.threads, args.worker_class, args.agents = 1, "sync", args.api_terminals
    base_env = os.environ | {"API_THROTTLE_RATE": "1000000/min"}  # the vend, not the throttle, as api_bench
    ports = {"floor": args.port + 10, "api": args.port + 11}
    servers = {
        "floor": ussd_load.start_server(
            args, ports["floor"], base_env | {"DJANGO_SETTINGS_MODULE": "bench.floor_settings"}
        ),
        "api": ussd_load.start_server(args, ports["api"], base_env | {"DJANGO_SETTINGS_MODULE": "config.settings"}),
    }
    results: list[dict[str, Any]] = []
    try:
        customer = 0
        for number in range(1, args.rounds + 1):
            for kind in ("floor", "api"):
                drive = argparse.Namespace(**vars(args))
                drive.port, drive.server_pid = ports[kind], servers[kind].pid
                load_before = os.getloadavg()[0]
                if kind == "floor":
                    result = ussd_load._run_client(
                        ussd_load._drive(
                            drive, "floor", f"{int(time.time())}a{number}", last_reply="CON ", first_customer=customer
                        )
                    )
                    customer = (customer + result["dialogues_started"]) % args.customers
                    cpu, rate = result.pop("cpu_ms_per_hop"), result["hops_per_s"]
                else:
                    drive.rate = args.api_rate
                    result = ussd_load._run_client(api_bench._drive(drive, drns, keys))
                    cpu, rate = result.pop("cpu_ms_per_purchase"), result["purchases_per_s"]
                row = {
                    "round": number,
                    "kind": kind,
                    "per_s": rate,
                    "errors": result["errors"],
                    "p50_ms": result["p50_ms"],
                    "p99_ms": result["p99_ms"],
                    "gunicorn_cpu_ms": cpu.get("gunicorn"),
                    "postgres_cpu_ms": cpu.get("postgres") if kind == "api" else 0.0,
                    "worker_rss_mib": [
                        round(_rss_kib(pid) / 1024, 1) for pid in sorted(_gunicorn_workers(drive.server_pid))
                    ],
                    "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
                results.append(row)
                print(json.dumps(row), flush=True)
    finally:
        for server in servers.values():
            ussd_load.stop_server(server)
    ratios = []
    for number in range(1, args.rounds + 1):
        by_kind = {r["kind"]: r for r in results if r["round"] == number}
        floor, real = by_kind["floor"], by_kind["api"]
        ratio = {
            "round": number,
            "purchase_vs_floor_gunicorn_cpu": _ratio(real["gunicorn_cpu_ms"], floor["gunicorn_cpu_ms"]),
            "floor_gunicorn_cpu_ms": floor["gunicorn_cpu_ms"],
            "purchase_gunicorn_cpu_ms": real["gunicorn_cpu_ms"],
            "purchase_postgres_cpu_ms": real["postgres_cpu_ms"],
            "purchases_per_s": real["per_s"],
            "purchase_p99_ms": real["p99_ms"],
        }
        ratios.append(ratio)
        print(json.dumps({"ratios": ratio}))
    print(json.dumps(_summary("api", ratios, [k for k in ratios[0] if k != "round"])))
    return 0 if all(r["errors"] == 0 for r in results) else 1


# --- memory: one worker of each kind through 10 000 operations -----------------------------------------------------


def memory_web(args: argparse.Namespace) -> int:
    """One gunicorn worker serving --memory-ops USSD hops in --memory-steps slices, its RSS after each slice."""
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    os.environ.update({"LOG_LEVEL": "WARNING", "USSD_SERVICE_CODES": ussd_load.SERVICE_CODE})
    ensure_database(db_url)
    secret = ussd_load._prepare(args.customers, args.meters, redis_url)
    args.database = urlsplit(db_url).path.lstrip("/")
    args.threads, args.worker_class, args.workers = 1, "sync", 1
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "bench.ussd_settings", "DB_PREPARED_STATEMENTS": "1"}
    server = ussd_load.start_server(args, args.port + 20, env)
    hops_per_dialogue = len(("", *ussd_load.ANSWERS))
    served, customer, status = 0, 0, 0
    try:
        (worker,) = _gunicorn_workers(server.pid)
        print(json.dumps({"kind": "memory_web", "hops": 0, "worker_rss_mib": round(_rss_kib(worker) / 1024, 1)}))
        slice_ops = args.memory_ops / args.memory_steps
        while served < args.memory_ops:
            drive = argparse.Namespace(**vars(args))
            drive.port, drive.server_pid = args.port + 20, server.pid
            drive.rate, drive.sessions, drive.warmup = args.memory_rate, 50, 0.5
            drive.duration = slice_ops / args.memory_rate
            result = ussd_load._run_client(
                ussd_load._drive(drive, secret, f"{int(time.time())}m{served}", first_customer=customer)
            )
            customer = (customer + result["dialogues_started"]) % args.customers
            served += result["dialogues_started"] * hops_per_dialogue  # every dialogue started runs to its end
            status |= result["errors"] > 0
            row = {
                "kind": "memory_web",
                "hops": served,
                "errors": result["errors"],
                "hops_per_s": result["hops_per_s"],
                "worker_rss_mib": round(_rss_kib(worker) / 1024, 1),
                "load_1min": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(row), flush=True)
        # Then --memory-sessions dialogues at once, paced at --memory-rate: a dialogue takes `span` seconds and
        # each session starts its first within the first span, so at the end of it about that many sessions are
        # live (open), each with its place record: measured in Redis then, while they are open.
        span = hops_per_dialogue * args.memory_sessions / args.memory_rate
        drive.sessions, drive.warmup, drive.duration = args.memory_sessions, 0.5, 1.5 * span
        memory: dict[str, Any] = {}
        sampler = threading.Timer(0.5 + span, lambda: memory.update(_session_memory(redis_url)))
        sampler.start()
        ussd_load._run_client(ussd_load._drive(drive, secret, f"{int(time.time())}live", first_customer=customer))
        sampler.join()
        print(json.dumps({"redis_sessions_live": memory}), flush=True)
    finally:
        ussd_load.stop_server(server)
    return status


def memory_task(args: argparse.Namespace) -> int:
    """One Celery worker through --memory-ops vends (bursts of --memory-ops / --memory-steps), its RSS after each."""
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    fake_at, _ = pipeline_bench.prepare_environment(db_url, redis_url)
    from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility

    utility = make_utility("KE", "KES")
    group = make_supply_group(utility)
    tariff = make_flat_tariff(utility, price="20")
    meters = [make_meter(supply_group=group, tariff=tariff) for _ in range(args.meters)]
    run = f"{int(time.time()) % 10_000:04d}"
    step = round(args.memory_ops / args.memory_steps)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    args.workers = 1
    (worker,) = pipeline_bench.start_workers(args, env, run)
    vends, status = 0, 0
    try:
        time.sleep(4)
        print(json.dumps({"kind": "memory_task", "vends": 0, "worker_rss_mib": round(_rss_kib(worker.pid) / 1024, 1)}))
        for number in range(args.memory_steps):
            refs, bodies = pipeline_bench._prepare(step, meters, f"M{run}{number}")
            pipeline_bench._burst(bodies)
            pipeline_bench._wait(refs, args.timeout)
            measured = pipeline_bench._measure("burst", refs, None)
            vends += measured["completed"]
            status |= measured["completed"] != measured["n"]
            row = {
                "kind": "memory_task",
                "vends": vends,
                "per_second": measured.get("vends_per_second"),
                "worker_rss_mib": round(_rss_kib(worker.pid) / 1024, 1),
                "load_1min": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(row), flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        fake_at.terminate()
        fake_at.wait(timeout=10)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "web", "task", "api", "memory", "memory-web", "memory-task"])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor + real; medians at the end")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the last round's real phase of one worker into DIR")
    web_args = parser.add_argument_group("web (bench/ussd_load.py's options)")
    web_args.add_argument("--sessions", type=int, default=200)
    web_args.add_argument("--duration", type=float, default=30, help="measured seconds per phase")
    web_args.add_argument("--rate", type=float, default=500, help="offered hops/s")
    web_args.add_argument("--warmup", type=float, default=10)
    web_args.add_argument("--gunicorn-workers", dest="web_workers", type=int, default=4)
    web_args.add_argument("--customers", type=int, default=50_000)
    web_args.add_argument("--ussd-meters", dest="ussd_meters", type=int, default=5_000)
    web_args.add_argument("--port", type=int, default=18_905, help="real server; floor servers on the next ports")
    web_args.add_argument(
        "--compare-middleware",
        action="store_true",
        help="also the floor and the hop with /hooks/ behind the whole MIDDLEWARE list (before config/hooks_wsgi.py)",
    )
    api_args = parser.add_argument_group("api (bench/api_bench.py's client; the floor as in web)")
    api_args.add_argument("--api-rate", dest="api_rate", type=float, default=40, help="offered purchases/s")
    api_args.add_argument("--api-terminals", dest="api_terminals", type=int, default=16, help="one agent each")
    api_args.add_argument("--api-meters", dest="api_meters", type=int, default=2_000)
    memory_args = parser.add_argument_group("memory (one gunicorn worker, then one Celery worker)")
    memory_args.add_argument("--memory-ops", dest="memory_ops", type=int, default=10_000, help="hops, then vends")
    memory_args.add_argument("--memory-steps", dest="memory_steps", type=int, default=5, help="RSS samples")
    memory_args.add_argument("--memory-rate", dest="memory_rate", type=float, default=250, help="offered hops/s")
    memory_args.add_argument(
        "--memory-sessions", dest="memory_sessions", type=int, default=1000, help="live sessions for Redis memory"
    )
    task_args = parser.add_argument_group("task (bench/pipeline_bench.py's options)")
    task_args.add_argument("--n", type=int, default=1000, help="floor tasks and burst vends per round")
    task_args.add_argument(
        "--vend-rate",
        dest="vend_rate",
        type=float,
        default=100,
        help="offered callbacks/s in the steady phase (0: skip)",
    )
    task_args.add_argument("--steady-seconds", type=float, default=10)
    task_args.add_argument("--feeders", type=int, default=4)
    task_args.add_argument("--meters", type=int, default=200)
    task_args.add_argument("--celery-workers", dest="task_workers", type=int, default=2)
    task_args.add_argument("--pool", default="threads", choices=["prefork", "threads", "solo"])
    task_args.add_argument("--concurrency", type=int, default=8)
    task_args.add_argument("--timeout", type=float, default=300)
    task_args.add_argument("--profile-seconds", type=float, default=8, help="py-spy length in the vend burst")
    args = parser.parse_args()
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring)", file=sys.stderr)
        return 2
    if args.what in ("all", "memory"):
        status = 0
        for what in ("web", "task", "api") if args.what == "all" else ("memory-web", "memory-task"):
            status |= subprocess.call([sys.executable, __file__, what, *sys.argv[2:]])
        return status
    suffix = {"web": "_ussd", "memory-web": "_ussd", "api": "_api"}.get(args.what, "_pipeline")
    os.environ["DATABASE_URL"] = urlsplit(db_url)._replace(path=urlsplit(db_url).path + suffix).geturl()
    if args.what in ("web", "memory-web", "api"):
        args.workers, args.meters = args.web_workers, args.ussd_meters
        return {"web": web, "memory-web": memory_web, "api": api}[args.what](args)
    args.workers, args.rate = args.task_workers, args.vend_rate
    return memory_task(args) if args.what == "memory-task" else task(args)


if __name__ == "__main__":
    sys.exit(main())
