"""Partner API benchmark (issue 16): float purchases over HTTP, each answered with its token.

gunicorn (sync workers, as in production) + Postgres + Redis (the per-key throttle's cache), on loopback.
`--terminals` concurrent agent terminals each POST /api/v1/purchases with a fresh client id, a float payment
and a meter from the bench's set, and check the answer: 201 with one 20-digit standard token. Without --rate
each terminal sends its next purchase as soon as the last answer arrives (saturation); with --rate the
terminals together offer that many purchases per second. The terminals belong to --agents agents (a
purchase locks its agent's row, so one agent's terminals sell one after another: see docs/BENCHMARKS.md).
It reports purchases/s and latency p50/p95/p99 over the measured window, with the CPU the server's
processes (gunicorn workers, Postgres backends) and the client used per purchase.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_api REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/api_bench.py --terminals 32 --agents 16 --duration 30

The database named in DATABASE_URL is created if missing, migrated, emptied of purchases and seeded
(seed_demo, --meters bench meters, the agents with a float that outlasts the run); the Redis database is
flushed: both are the bench's own, never the development ones.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import bench_meters, ensure_database, reset_for_bench  # noqa: E402 - bench/ is on sys.path when run as a script
from ussd_load import Connection, _cpu_seconds, _run_client, _server_pids  # noqa: E402 - the same HTTP client

AMOUNT = "100"


def _prepare(*, meters: int, agents: int, terminals: int, redis_url: str) -> tuple[list[str], list[str]]:
    """Migrate and seed; returns the bench meters' numbers and one API key per terminal."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from vending.models import AgentTerminal, Meter, Tariff
    from vending.services.agents import agent_create, api_key_create

    reset_for_bench(
        redis_url=redis_url,
        tables=[
            "vending_auditevent",
            "vending_payment",
            "vending_providercallback",
            "vending_token",
            "vending_smsmessage",
            "vending_purchase",
            "vending_floatentry",
            "vending_agentsale",
            "vending_tokenvoid",
            "vending_revenuefinding",
            "vending_faultreport",
            "vending_apikey",
            "vending_agentterminal",
            "vending_commissionrule",
            "vending_agent",
        ],
    )
    drns = bench_meters(first=9_100_000_000, count=meters)
    tariff = Tariff.objects.get(pk=Meter.objects.get(drn="04123456784").tariff_id)
    keys: list[str] = []
    made = [
        agent_create(name=f"Bench agent {a}", currency=tariff.currency, opening_float=Decimal("1000000000"))
        for a in range(agents)
    ]
    for n in range(terminals):
        agent, issued = made[n % agents]
        if n < agents:
            keys.append(issued.plaintext)
        else:
            terminal = AgentTerminal.objects.create(agent=agent, name=f"Terminal {n // agents + 1}")
            keys.append(api_key_create(terminal=terminal).plaintext)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return drns, keys


def purchase_request(host: str, key: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST /api/v1/purchases HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Api-Key {key}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def _good(status: int, reply: str) -> bool:
    if status != 201:
        return False
    tokens = json.loads(reply)["tokens"]
    return len(tokens) == 1 and tokens[0]["kind"] == "standard" and len(tokens[0]["digits"]) == 20


async def _drive(args: argparse.Namespace, drns: list[str], keys: list[str]) -> dict:
    host = f"127.0.0.1:{args.port}"
    meters = itertools.cycle(drns)
    start = time.perf_counter()
    measure_from = start + args.warmup
    stop_at = measure_from + args.duration
    latencies: list[float] = []
    counts = {"purchases": 0, "errors": 0}
    first_error: list[str] = []
    interval = len(keys) / args.rate if args.rate else 0.0

    async def terminal(key: str) -> None:
        import random

        connection = Connection("127.0.0.1", args.port)
        next_at = time.perf_counter() + random.uniform(0, interval)
        while time.perf_counter() < stop_at:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at = max(next_at + interval, time.perf_counter())
            body = {
                "id": str(uuid.uuid4()),
                "meter": next(meters),
                "amount": AMOUNT,
                "currency": "KES",
                "payment": {"method": "float"},
            }
            t0 = time.perf_counter()
            try:
                status, reply = await connection.post(purchase_request(host, key, body))
            except (OSError, ValueError):
                status, reply = 0, ""
            t1 = time.perf_counter()
            good = _good(status, reply)
            if not good and not first_error:
                first_error.append(f"{status} {reply[:300]}")
            if measure_from <= t0 and t1 <= stop_at:
                latencies.append(t1 - t0)
                counts["purchases"] += 1
                counts["errors"] += not good
        connection.close()

    cpu: dict[str, float] = {}

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        pids = _server_pids(args.server_pid, args.database)
        before = {name: _cpu_seconds(p) for name, p in pids.items()} | {"client": time.process_time()}
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        after = {name: _cpu_seconds(p) for name, p in pids.items()} | {"client": time.process_time()}
        cpu.update({name: after[name] - before[name] for name in before})

    await asyncio.gather(sample_cpu(), *(terminal(key) for key in keys))
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 1)

    done = max(counts["purchases"], 1)
    return {
        "terminals": len(keys),
        "agents": args.agents,
        "target_rate": args.rate or "max",
        "gunicorn": f"{args.workers} sync workers",
        "duration_s": args.duration,
        "purchases": counts["purchases"],
        "purchases_per_s": round(counts["purchases"] / args.duration, 1),
        "errors": counts["errors"],
        "first_error": first_error[0] if first_error else None,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "cpu_ms_per_purchase": {name: round(seconds * 1000 / done, 2) for name, seconds in cpu.items()},
    }


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            return  # an answer (401 without a key): the server is up
        except OSError:
            time.sleep(0.2)
        else:
            return
    raise SystemExit(f"gunicorn did not answer {url} within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terminals", type=int, default=32, help="concurrent terminals (one API key each)")
    parser.add_argument("--agents", type=int, default=16, help="agents the terminals belong to")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument("--rate", type=float, default=0, help="offered purchases/s over all terminals (0: max)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds driven but not measured")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync worker processes")
    parser.add_argument("--meters", type=int, default=5_000, help="meters the purchases spread over")
    parser.add_argument("--port", type=int, default=18_351)
    args = parser.parse_args()
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring)", file=sys.stderr)
        return 2
    os.environ.update({"LOG_LEVEL": "WARNING"})
    ensure_database(db_url)
    drns, keys = _prepare(meters=args.meters, agents=args.agents, terminals=args.terminals, redis_url=redis_url)

    from vending.models import AgentSale, FloatEntry
    from vending.selectors.agents import balance_locked, ledger_sum

    server_env = os.environ | {"API_THROTTLE_RATE": "1000000/min"}  # the bench measures vending, not the throttle
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.workers),
            "-k",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env,
        start_new_session=True,
    )
    args.server_pid, args.database = server.pid, urlsplit(db_url).path.lstrip("/")
    try:
        _wait_for(f"http://127.0.0.1:{args.port}/api/v1/statement", 30)
        load_before = os.getloadavg()[0]
        result = _run_client(_drive(args, drns, keys))
        result["loadavg_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        server_ms = result["cpu_ms_per_purchase"].get("gunicorn", 0) + result["cpu_ms_per_purchase"].get("postgres", 0)
        result["server_capacity_purchases_per_s_on_2_cores"] = round(2000 / server_ms) if server_ms else None
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    # The books after the run: every sale one ledger entry, every agent's running balance the ledger's sum.
    from vending.models import Agent

    result["sales_written"] = AgentSale.objects.count()
    result["ledger_balances"] = all(
        balance_locked(agent_id=a) == ledger_sum(agent_id=a) for a in Agent.objects.values_list("pk", flat=True)
    )
    result["sale_entries"] = FloatEntry.objects.filter(kind="sale").count()
    print(json.dumps(result))
    print(
        f"{result['terminals']} terminals of {result['agents']} agents at rate {result['target_rate']}, "
        f"{result['gunicorn']}: {result['purchases_per_s']} purchases/s, p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}; CPU "
        f"{result['cpu_ms_per_purchase']} ms/purchase → ~{result['server_capacity_purchases_per_s_on_2_cores']} "
        f"purchases/s on 2 dedicated cores; load average {result['loadavg_1min_before_after']}"
    )
    return 0 if result["errors"] == 0 and result["ledger_balances"] else 1


if __name__ == "__main__":
    sys.exit(main())
