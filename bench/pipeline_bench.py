"""Purchase pipeline benchmark (issue 4): confirmed payments → vend → token SMS, on real workers.

Postgres + Redis + two Celery worker processes (each with a pool, `--pool`/`--concurrency`); SMS through
the fake Africa's Talking server (the real SDK and HTTP; the fake runs in its own process so it never
competes with this one), payments on the sandbox provider. The bench stores "paid" sandbox callbacks
the way the Daraja webhook does (raw row, then `callback_process_task` on commit) and measures, per
purchase, the time from the callback being stored to its token SMS being accepted by the gateway.

Two phases, each on fresh purchases, workers kept running:
  burst  all N callbacks arrive at once (stored together, then N tasks enqueued): the most the workers
         can do (vends/s); latency is mostly time spent waiting in the queue.
  steady callbacks offered at `--rate` per second for `--steady-seconds` by `--feeders` threads (as
         the web tier would store them): the latency a customer sees at that load (p50/p95), and whether
         the pipeline keeps up. `offered_per_second` is the rate the feeders actually achieved.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench_pipeline REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/pipeline_bench.py --n 1000 --rate 100

Both phases run `--rounds` times (fresh purchases each time); prints one JSON line per phase and
round, then the median of the rounds for each phase. Every line has the CPU time the workers and the
Postgres backends spent per vend (from /proc: a figure that the machine's other load disturbs less
than vends/s). The database named in DATABASE_URL is created if missing, migrated and FLUSHED: give
it a database of its own. The Redis database is flushed too.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import ensure_database  # noqa: E402 - bench/ is on sys.path when run as a script


def _start_fake_at() -> tuple[subprocess.Popen, str]:
    """The fake AT server in a process of its own; returns it and its base URL."""
    fake = subprocess.Popen(
        [sys.executable, "-m", "fakes", "africastalking", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = fake.stdout.readline().strip() if fake.stdout else ""
    if not first.startswith("AT_API_BASE_URL="):
        fake.kill()
        raise RuntimeError(f"the fake AT server did not start: {first!r}")
    return fake, first.split("=", 1)[1]


def _prepare(n: int, meters: list, tag: str) -> tuple[list[int], list[bytes]]:
    """N purchases waiting for payment, their sandbox payments, and the 'paid' callback body of each."""
    from vending.models import Payment, Purchase
    from vending.payments import PaymentRequest
    from vending.payments.sandbox import SandboxProvider
    from vending.states import PaymentState, PurchaseState

    Purchase.objects.bulk_create(
        [
            Purchase(
                reference=f"{tag}{i:05d}",
                idempotency_key=f"bench-{tag}-{i}",
                channel="api",
                meter=meters[i % len(meters)],
                payer_phone="+254711000111",
                wallet="mpesa",
                amount=Decimal("100"),
                currency="KES",
                quote={"units": 50, "amount": "100", "vat": "0"},
                state=PurchaseState.PAYMENT_PENDING,
            )
            for i in range(n)
        ]
    )
    purchases = list(Purchase.objects.filter(reference__startswith=tag).order_by("pk"))
    sandbox = SandboxProvider(approve_delay=0)
    payments, bodies = [], []
    for purchase in purchases:
        result = sandbox.initiate(
            PaymentRequest(
                reference=purchase.reference,
                amount=purchase.amount,
                currency="KES",
                phone=purchase.payer_phone,
                wallet="mpesa",
            )
        )
        payments.append(
            Payment(
                purchase=purchase,
                provider="sandbox",
                state=PaymentState.PENDING,
                provider_reference=result.provider_reference,
                amount_requested=purchase.amount,
            )
        )
        bodies.append(result.simulated_callbacks[0].body)
    Payment.objects.bulk_create(payments)
    return [p.pk for p in purchases], bodies


def _store_and_enqueue(body: bytes, producer) -> None:
    """What the Daraja webhook does: keep the raw callback, then enqueue its processing."""
    from vending.services.payments import callback_store
    from vending.tasks import callback_process_task

    callback, _ = callback_store(
        provider="sandbox", kind="stk_callback", headers={"Content-Type": "application/json"}, body=body
    )
    callback_process_task.apply_async(args=[callback.pk], producer=producer)


def _burst(bodies: list[bytes]) -> None:
    """All callbacks arrive at once: stored in one transaction, then every task enqueued. Their arrival
    time is set to the moment the first task is enqueued, so latency counts from there."""
    from django.db import transaction
    from django.utils import timezone

    from config.celery import app as celery_app
    from vending.models import ProviderCallback
    from vending.services.payments import callback_store
    from vending.tasks import callback_process_task

    with transaction.atomic():
        ids = [
            callback_store(
                provider="sandbox", kind="stk_callback", headers={"Content-Type": "application/json"}, body=body
            )[0].pk
            for body in bodies
        ]
    ProviderCallback.objects.filter(pk__in=ids).update(received_at=timezone.now())
    with celery_app.producer_or_acquire() as producer:
        for callback_id in ids:
            callback_process_task.apply_async(args=[callback_id], producer=producer)


def _steady(bodies: list[bytes], rate: float, feeders: int) -> float:
    """Callback i arrives at start + i/rate, stored and enqueued by a pool of feeder threads (the web tier
    has several processes too). Returns the rate actually offered (lower if the feeders fell behind)."""
    import threading

    from django.db import connection

    from config.celery import app as celery_app

    start = time.monotonic()
    queue = iter(enumerate(bodies))
    lock = threading.Lock()

    def feed() -> None:
        with celery_app.producer_or_acquire() as producer:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    break
                i, body = item
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                _store_and_enqueue(body, producer)
        connection.close()

    threads = [threading.Thread(target=feed) for _ in range(feeders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / max(time.monotonic() - start, 1e-9)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += (task / "children").read_text().split()
    except (OSError, IndexError, ValueError):
        return 0.0
    return total + sum(_cpu_seconds(int(child)) for child in children)


def _cpu_snapshot(workers: list[subprocess.Popen]) -> dict[str, dict[int, float]]:
    """CPU used so far by the workers and by the Postgres backends serving the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        backends = [row[0] for row in cursor.fetchall()]
    return {
        "workers": {w.pid: _cpu_seconds(w.pid) for w in workers},
        "postgres": {pid: _cpu_seconds(pid) for pid in backends},
    }


def _cpu_ms_per_vend(before: dict, after: dict, vends: int) -> dict[str, float]:
    return {
        f"{kind}_cpu_ms_per_vend": round(
            1000 * sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items()) / max(vends, 1), 1
        )
        for kind in after
    }


def _wait(refs: list[int], timeout: float) -> None:
    from vending.models import SmsMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if SmsMessage.objects.filter(purchase_id__in=refs, status="sent").count() >= len(refs):
            return
        time.sleep(0.25)


def _measure(phase: str, refs: list[int], offered_rate: float | None) -> dict:
    from vending.models import ProviderCallback, SmsMessage

    received = dict(
        ProviderCallback.objects.filter(payment__purchase_id__in=refs).values_list(
            "payment__purchase_id", "received_at"
        )
    )
    sent_at = dict(
        SmsMessage.objects.filter(purchase_id__in=refs, status="sent").values_list("purchase_id", "updated_at")
    )
    done = [pk for pk in refs if pk in sent_at and pk in received]
    result: dict = {"phase": phase, "n": len(refs), "completed": len(done)}
    if offered_rate is not None:
        result["offered_per_second"] = round(offered_rate, 1)
    if not done:
        return result
    latencies = sorted((sent_at[pk] - received[pk]).total_seconds() for pk in done)
    span = (max(sent_at[pk] for pk in done) - min(received[pk] for pk in done)).total_seconds()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    result.update(
        {
            "seconds": round(span, 2),
            "vends_per_second": round(len(done) / span, 1),
            "p50_callback_to_sms_seconds": round(statistics.median(latencies), 3),
            "p95_callback_to_sms_seconds": round(p95, 3),
            "max_callback_to_sms_seconds": round(latencies[-1], 3),
        }
    )
    return result


def start_workers(
    args: argparse.Namespace, env: dict[str, str], run: str, include: tuple[str, ...] = ()
) -> list[subprocess.Popen]:
    """args.workers Celery workers (args.pool, args.concurrency) on the production queues; `include`: extra task
    modules to load (bench/floor.py's bare task). Logs in var/bench-worker-N.log."""
    (ROOT / "var").mkdir(exist_ok=True)
    logs = [open(ROOT / "var" / f"bench-worker-{i}.log", "w") for i in range(args.workers)]  # noqa: SIM115
    extra = ["--include", ",".join(include)] if include else []
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "celery,payments",
                "--pool",
                args.pool,
                "-c",
                str(args.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
                *extra,
                "-n",
                f"bench{i}-{run}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs[i],
            stderr=subprocess.STDOUT,
        )
        for i in range(args.workers)
    ]


def prepare_environment(db_url: str, redis_url: str) -> tuple[subprocess.Popen, str]:
    """Start the fake Africa's Talking, point this process (and the workers it starts) at it with the sandbox
    wallet and no real providers, set Django up, migrate, and empty the database and the Redis database.
    Returns the fake's process and base URL."""
    ensure_database(db_url)
    from fakes.africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME

    fake_at, at_url = _start_fake_at()
    os.environ.update(
        {
            "AT_API_BASE_URL": at_url,
            "AT_USERNAME": FAKE_AT_USERNAME,
            "AT_API_KEY": FAKE_AT_API_KEY,
            "SANDBOX_APPROVE_DELAY_SECONDS": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in (
        "DARAJA_CONSUMER_KEY",
        "DARAJA_CONSUMER_SECRET",
        "DARAJA_SHORTCODE",
        "DARAJA_PASSKEY",
        "WAAFIPAY_MERCHANT_UID",
        "WAAFIPAY_API_USER_ID",
        "WAAFIPAY_API_KEY",
    ):
        os.environ.pop(name, None)
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(redis_url).flushdb()
    return fake_at, at_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="confirmed payments in the burst phase")
    parser.add_argument("--rate", type=float, default=100, help="offered callbacks/s in the steady phase (0: skip)")
    parser.add_argument("--steady-seconds", type=float, default=10, help="length of the steady phase")
    parser.add_argument("--feeders", type=int, default=4, help="threads storing callbacks in the steady phase")
    parser.add_argument("--meters", type=int, default=200, help="meters the purchases are spread over")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--pool", default="threads", choices=["prefork", "threads", "solo"])
    parser.add_argument("--concurrency", type=int, default=8, help="pool size of each worker")
    parser.add_argument("--rounds", type=int, default=3, help="burst + steady rounds; medians printed at the end")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring)", file=sys.stderr)
        return 2
    fake_at, _ = prepare_environment(db_url, redis_url)

    from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility

    utility = make_utility("KE", "KES")
    group = make_supply_group(utility)
    tariff = make_flat_tariff(utility, price="20")
    meters = [make_meter(supply_group=group, tariff=tariff) for _ in range(args.meters)]
    run = secrets.token_hex(2).upper()
    steady_n = round(args.rate * args.steady_seconds)
    rounds = [
        (_prepare(args.n, meters, f"B{run}{r}"), _prepare(steady_n, meters, f"S{run}{r}") if steady_n else None)
        for r in range(args.rounds)
    ]

    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    workers = start_workers(args, env, run)
    setup = {"workers": args.workers, "pool": args.pool, "concurrency": args.concurrency}
    results = []
    try:
        time.sleep(4)  # workers up before the clock starts
        for number, ((burst_refs, burst_bodies), steady) in enumerate(rounds, 1):
            before = _cpu_snapshot(workers)
            _burst(burst_bodies)
            _wait(burst_refs, args.timeout)
            results.append(
                {
                    "round": number,
                    **_measure("burst", burst_refs, None),
                    **_cpu_ms_per_vend(before, _cpu_snapshot(workers), len(burst_refs)),
                }
            )
            if steady:
                steady_refs, steady_bodies = steady
                before = _cpu_snapshot(workers)
                offered = _steady(steady_bodies, args.rate, args.feeders)
                _wait(steady_refs, args.timeout)
                results.append(
                    {
                        "round": number,
                        **_measure("steady", steady_refs, offered),
                        **_cpu_ms_per_vend(before, _cpu_snapshot(workers), len(steady_refs)),
                    }
                )
            print(
                *(
                    json.dumps({**r, **setup, "load_average": [round(x, 2) for x in os.getloadavg()]})
                    for r in results[-2:]
                    if r["round"] == number
                ),
                sep="\n",
                flush=True,
            )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        fake_at.terminate()
        fake_at.wait(timeout=10)
    for phase in ("burst", "steady"):
        rows = [r for r in results if r["phase"] == phase and "vends_per_second" in r]
        if rows:
            medians = {
                key: round(statistics.median(r[key] for r in rows), 3)
                for key in rows[0]
                if key not in ("round", "phase", "n", "completed") and isinstance(rows[0][key], float | int)
            }
            print(json.dumps({"median_of_rounds": len(rows), "phase": phase, **medians, **setup}))
    complete = all(r["completed"] == r["n"] for r in results)
    if not complete:
        print("not every purchase got its SMS; see var/bench-worker-*.log", file=sys.stderr)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
