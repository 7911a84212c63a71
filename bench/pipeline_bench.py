"""Purchase pipeline benchmark (issue 4): N confirmed payments → vend → token SMS, on real workers.

Postgres + Redis + two Celery worker processes (one pool process each); SMS through the fake Africa's
Talking server (the real SDK and HTTP), payments on the sandbox provider. The bench stores N sandbox
"paid" callbacks the way the webhook does (raw row + task on commit) and measures, per purchase, the
time from the callback being stored to its token SMS being accepted by the gateway.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/koronto_bench REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/pipeline_bench.py --n 1000

Prints vends/s (N / (last SMS sent - first callback stored)) and p50/p95 callback→SMS latency.
The database named in DATABASE_URL is created if missing and migrated; its rows are the bench's own.
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="confirmed payments to drive")
    parser.add_argument("--meters", type=int, default=200, help="meters the purchases are spread over")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring)", file=sys.stderr)
        return 2
    _ensure_database(db_url)

    from fakes.africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME, FakeAfricasTalking

    at = FakeAfricasTalking().start()
    os.environ.update({"AT_API_BASE_URL": at.base_url, "AT_USERNAME": FAKE_AT_USERNAME,
                       "AT_API_KEY": FAKE_AT_API_KEY, "SANDBOX_APPROVE_DELAY_SECONDS": "0",
                       "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"})
    for name in ("DARAJA_CONSUMER_KEY", "DARAJA_CONSUMER_SECRET", "DARAJA_SHORTCODE", "DARAJA_PASSKEY",
                 "WAAFIPAY_MERCHANT_UID", "WAAFIPAY_API_USER_ID", "WAAFIPAY_API_KEY"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    from config.celery import app as celery_app
    from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility
    from vending.models import Payment, ProviderCallback, Purchase, SmsMessage
    from vending.payments.sandbox import SandboxProvider
    from vending.services.payments import callback_store
    from vending.states import PaymentState, PurchaseState
    from vending.tasks import callback_process_task

    utility = make_utility("KE", "KES")
    group = make_supply_group(utility)
    tariff = make_flat_tariff(utility, price="20")
    meters = [make_meter(supply_group=group, tariff=tariff) for _ in range(args.meters)]
    run = secrets.token_hex(3).upper()
    purchases = Purchase.objects.bulk_create([
        Purchase(reference=f"B{run}{i:05d}", idempotency_key=f"bench-{run}-{i}", channel="api",
                 meter=meters[i % len(meters)], payer_phone="+254711000111", wallet="mpesa",
                 amount=Decimal("100"), currency="KES", quote={"units": 50, "amount": "100", "vat": "0"},
                 state=PurchaseState.PAYMENT_PENDING)
        for i in range(args.n)
    ])
    purchases = list(Purchase.objects.filter(reference__startswith=f"B{run}").order_by("pk"))
    sandbox = SandboxProvider(approve_delay=0)
    bodies = []
    payments = []
    for purchase in purchases:
        from vending.payments import PaymentRequest

        result = sandbox.initiate(PaymentRequest(reference=purchase.reference, amount=purchase.amount,
                                                 currency="KES", phone=purchase.payer_phone, wallet="mpesa"))
        payments.append(Payment(purchase=purchase, provider="sandbox", state=PaymentState.PENDING,
                                provider_reference=result.provider_reference, amount_requested=purchase.amount))
        bodies.append(result.simulated_callbacks[0].body)
    Payment.objects.bulk_create(payments)

    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    logs = [open(ROOT / "var" / f"bench-worker-{i}.log", "w") for i in range(args.workers)]  # noqa: SIM115
    workers = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,payments",
                                 "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
                                 "-l", "WARNING", "-n", f"bench{i}-{run}@%h"], cwd=ROOT, env=env,
                                stdout=logs[i], stderr=subprocess.STDOUT)
               for i in range(args.workers)]
    try:
        time.sleep(3)  # workers up before the clock starts
        with celery_app.producer_or_acquire() as producer:
            for body in bodies:
                callback, _ = callback_store(provider="sandbox", kind="stk_callback",
                                             headers={"Content-Type": "application/json"}, body=body)
                callback_process_task.apply_async(args=[callback.pk], producer=producer)
        deadline = time.monotonic() + args.timeout
        refs = [p.pk for p in purchases]
        while time.monotonic() < deadline:
            sent = SmsMessage.objects.filter(purchase_id__in=refs, status="sent").count()
            if sent >= args.n:
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        at.stop()
    received = dict(ProviderCallback.objects.filter(payment__purchase_id__in=refs)
                    .values_list("payment__purchase_id", "received_at"))
    sent_at = dict(SmsMessage.objects.filter(purchase_id__in=refs, status="sent")
                   .values_list("purchase_id", "updated_at"))
    done = [pk for pk in refs if pk in sent_at and pk in received]
    if not done:
        print("nothing was delivered; see var/bench-worker-*.log", file=sys.stderr)
        return 1
    latencies = sorted((sent_at[pk] - received[pk]).total_seconds() for pk in done)
    span = (max(sent_at.values()) - min(received.values())).total_seconds()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    result = {"n": args.n, "completed": len(done), "workers": args.workers, "seconds": round(span, 2),
              "vends_per_second": round(len(done) / span, 1),
              "p50_callback_to_sms_seconds": round(statistics.median(latencies), 3),
              "p95_callback_to_sms_seconds": round(p95, 3)}
    print(json.dumps(result))
    return 0 if len(done) == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
