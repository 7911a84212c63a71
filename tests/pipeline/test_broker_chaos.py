"""Nothing lost when the broker or a worker falls over (issue 13, done-when 1 and 2).

Real processes: Postgres, two Celery workers (`--pool threads`), beat, our webhooks on live_server, and
fakes of Daraja and Africa's Talking. Purchases flow in through USSD dialogues and inbound SMS `BUY`
commands; payments are confirmed by Daraja callbacks and token SMS by delivery reports, all over HTTP.
Meanwhile the broker goes away twice and a worker is SIGKILLed once in the middle of a vend (then
started again, as systemd would). Afterwards: no worker exited by itself, every paid purchase is
delivered exactly once, no inbound SMS is left `received`, no callback or delivery report is left
unprocessed, every purchase was prompted, and no customer got the same token SMS twice.

- Redis: a redis-server of the test's own on a free port (KORONTO_TEST_REDIS_PORT to pick one), killed
  with -9 and started again, empty (nothing saved): every queued and unacknowledged message is lost.
- RabbitMQ (KORONTO_TEST_AMQP_URL, default the machine's broker): shared, so it is never stopped; every
  client reaches it through a proxy of the test's own, which cuts all connections twice.

Both need Postgres (SKIP_LOCKED, row locks across processes). Without the services they skip, except
with KORONTO_REQUIRE_SERVICES=1 (CI), where a missing service fails the test.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import threading
import time
from collections import Counter
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from config.brokers import amqp_settings, as_celery_conf, redis_settings
from config.celery import app as celery_app
from tests.factories import (
    current_base_date,
    make_customer,
    make_flat_tariff,
    make_meter,
    make_supply_group,
    make_utility,
)
from tests.pipeline.chaos import Beat, RedisServer, TcpProxy, free_port, pause
from tests.pipeline.test_e2e_worker import fakes  # noqa: F401  (fixture: fake Daraja, WaafiPay, AT)
from tests.pipeline.worker import Worker, wait_until
from ussd import sms_texts  # noqa: F401  (registers the SMS catalogue in this process)
from vending.models import Payment, ProviderCallback, Purchase, SmsMessage, Token
from vending.services.customers import customer_save_meter
from vending.states import PurchaseState, SmsState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

USSD_BUYS = 12
SMS_BUYS = 6
AMOUNT = "100"
# Short sweeps for the test; production keeps the defaults (settings.py, .env.example).
FAST_SWEEPS = {
    "SWEEP_INTERVAL_SECONDS": "1",
    "OUTBOX_REDISPATCH_AFTER_SECONDS": "4",
    "SWEEP_VEND_AFTER_SECONDS": "4",
    "SWEEP_PENDING_PAYMENT_AFTER_SECONDS": "8",
    "PURCHASE_PUSH_COUNTDOWN_SECONDS": "0",
    "CELERY_VISIBILITY_TIMEOUT": "8",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


def _need(what: str) -> None:
    if os.environ.get("KORONTO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"KORONTO_REQUIRE_SERVICES=1 but {what}")
    pytest.skip(what)


@pytest.fixture
def on_postgres() -> None:
    if connection.vendor != "postgresql":
        _need("the broker fault tests need PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def shoppers(db):
    """Kenyan customers, each with two saved meters and a phone of their own (rate limits are per phone)."""
    utility = make_utility("KE", "KES")
    group = make_supply_group(utility, base_date=current_base_date(real_clock=True))  # the workers vend them
    tariff = make_flat_tariff(utility, price="20", min_purchase=Decimal("10"), max_purchase=Decimal("10000"))
    people = []
    block = random.randint(1, 9)
    for i in range(USSD_BUYS + SMS_BUYS):
        customer = make_customer(f"+254711{block}{i:05d}")
        meters = [make_meter(supply_group=group, tariff=tariff) for _ in range(2)]
        for alias, meter in zip(("Home", "Shop"), meters, strict=True):
            customer_save_meter(customer=customer, meter=meter, alias=alias)
        people.append((customer.phone, meters[0]))
    return people


class _Traffic(threading.Thread):
    """Purchases through our HTTP webhooks, one about every 0.7 s: USSD dialogues and SMS BUY commands."""

    def __init__(self, base_url: str, shoppers: list) -> None:
        super().__init__(daemon=True)
        self.base_url, self.shoppers = base_url, shoppers
        self.problems: list[str] = []
        self.ussd_done = 0

    def run(self) -> None:
        secret = django_settings.WEBHOOK_SECRET
        for i, (phone, meter) in enumerate(self.shoppers):
            try:
                if i < USSD_BUYS:
                    self._ussd(f"{self.base_url}/hooks/at/ussd/{secret}/", phone, i)
                else:
                    self._sms(f"{self.base_url}/hooks/at/sms/{secret}/", phone, meter.drn, i)
            except Exception as exc:  # recorded and asserted on: no error may reach a customer
                self.problems.append(f"{phone}: {type(exc).__name__}: {exc}")
            time.sleep(0.7)

    def _ussd(self, url: str, phone: str, i: int) -> None:
        session = f"ATUid_chaos_{i}_{time.monotonic_ns()}"
        answers: list[str] = []
        for answer in (None, "1", "1", AMOUNT, "1"):  # dial → buy → saved meter 1 → amount → confirm
            if answer is not None:
                answers.append(answer)
            text = "*".join(answers)
            reply = requests.post(
                url,
                data={
                    "sessionId": session,
                    "phoneNumber": phone,
                    "networkCode": "63902",
                    "serviceCode": django_settings.USSD_SERVICE_CODES[0],
                    "text": text,
                },
                timeout=10,
            )
            if reply.status_code != 200:
                raise AssertionError(f"USSD hop {text!r} answered {reply.status_code}")
        if not reply.text.startswith("END Approve"):
            raise AssertionError(f"USSD confirm answered {reply.text!r}")
        self.ussd_done += 1

    def _sms(self, url: str, phone: str, drn: str, i: int) -> None:
        form = {
            "from": phone,
            "to": django_settings.SMS_SHORTCODE,
            "text": f"BUY {drn} {AMOUNT}",
            "date": "2026-12-01 10:30:00",
            "id": f"ATXid_chaos_{i}",
            "linkId": "x",
            "networkCode": "63902",
        }
        reply = requests.post(url, data=form, timeout=10)
        if reply.status_code != 200:
            raise AssertionError(f"inbound SMS answered {reply.status_code}")


def _use_broker(conf: dict) -> dict:
    """Point this process (our webhooks on live_server) at the test's broker; returns what to restore."""
    saved = {key: celery_app.conf.get(key) for key in conf}
    celery_app.conf.update(conf)
    for cached in ("queues", "default_queue", "router", "_producer_pool"):
        celery_app.amqp.__dict__.pop(cached, None)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    return saved


def _settled(expected: int) -> bool:
    return (
        Purchase.objects.filter(state=PurchaseState.DELIVERED).count() == expected
        and not SmsMessage.objects.filter(direction="in", status=SmsState.RECEIVED).exists()
        and not ProviderCallback.objects.filter(processed_at__isnull=True).exists()
    )


def _run_chaos(*, env: dict[str, str], conf: dict, outage, recover, fakes, shoppers, live_server, tmp_path):  # noqa: F811
    saved = _use_broker(conf)
    # The workers' cache holds per-phone rate limits, which must not carry over from an earlier run: a
    # key prefix of this run's own in the suite's Redis (the file cache otherwise; the phones vary too).
    cache = {"REDIS_URL": django_settings.REDIS_URL} if django_settings.REDIS_URL else {}
    full_env = {**fakes["env"], **FAST_SWEEPS, **env, **cache, "CACHE_KEY_PREFIX": f"chaos{time.time_ns()}"}
    # Worker 1 is the one to be killed, mid-vend: one thread, no pushes (so no payment prompt or other
    # outbound call is in flight when it dies, only the vend), and each vend paused for a moment.
    workers = [
        Worker(
            {**full_env, "KORONTO_TEST_VEND_PAUSE_SECONDS": "1.5"},
            tmp_path / "worker1.log",
            concurrency=1,
            pool="threads",
            queues="celery",
        ),
        Worker(full_env, tmp_path / "worker2.log", concurrency=4, pool="threads"),
    ]
    beat = Beat(full_env, tmp_path)
    restarted: Worker | None = None
    try:
        for worker in workers:
            wait_until(lambda w=worker: "ready." in w.log(), 60, "the workers to start")
        traffic = _Traffic(live_server.url, shoppers)
        traffic.start()
        pause(3)
        outage()  # 1: the broker goes away...
        pause(4)
        recover()  # ...and comes back (Redis: empty)
        paused = workers[0].log().count("vend paused")
        wait_until(lambda: workers[0].log().count("vend paused") > paused, 30, "worker 1 to be in a vend")
        workers[0].kill(signal.SIGKILL)  # mid-vend: rows locked, message unacknowledged; then started again
        # (systemd's Restart=)
        restarted = Worker(full_env, tmp_path / "worker1-restarted.log", concurrency=4, pool="threads")
        pause(3)
        outage()  # 2
        pause(4)
        recover()
        traffic.join(timeout=60)
        expected = USSD_BUYS + SMS_BUYS
        with contextlib.suppress(AssertionError):  # the assertions below say what is missing
            wait_until(lambda: _settled(expected), 90, "every purchase delivered and every row processed")
        alive = [w for w in (workers[1], restarted) if w.process.poll() is None]
        beat_alive = beat.process.poll() is None
    finally:
        for worker in (*workers, restarted):
            if worker is not None:
                worker.kill()
        beat.stop()
        _use_broker(saved)

    logs = "\n".join(w.log() for w in (*workers, restarted) if w is not None)
    assert traffic.problems == []
    assert len(alive) == 2 and beat_alive, "a worker or beat exited by itself"
    assert "Unrecoverable error" not in logs

    purchases = list(Purchase.objects.select_related("payment"))
    assert len(purchases) == expected
    states = Counter(p.state for p in purchases)
    assert states == {PurchaseState.DELIVERED: expected}, states
    # Every purchase was prompted exactly once: one push accepted by Daraja per purchase reference (a
    # request refused for an expired OAuth token and sent again with a fresh one is not a prompt).
    with fakes["daraja"].lock:
        prompted = Counter(c["account_reference"] for c in fakes["daraja"].checkouts.values())
    assert set(prompted) == {p.reference for p in purchases}
    assert max(prompted.values()) == 1
    assert Payment.objects.filter(push_started_at__isnull=True).count() == 0
    # Delivered exactly once: one credit token per purchase, and its SMS sent once.
    assert Token.objects.filter(kind=Token.Kind.CREDIT).count() == expected
    texts = Counter((m["to"], m["message"]) for m in fakes["at"].messages)
    for purchase in purchases:
        token = purchase.tokens.get(kind=Token.Kind.CREDIT)
        with_token = [n for (to, text), n in texts.items() if to == purchase.payer_phone and token.grouped in text]
        assert with_token == [1], f"{purchase.reference}: token texted {with_token}"
    assert SmsMessage.objects.filter(direction="in").exclude(status=SmsState.PROCESSED).count() == 0
    assert SmsMessage.objects.filter(direction="in").count() == SMS_BUYS
    assert ProviderCallback.objects.filter(processed_at__isnull=True).count() == 0
    assert ProviderCallback.objects.filter(kind="delivery_report", flagged=True).count() == 0


def test_redis_killed_twice_and_a_worker_killed_lose_nothing(
    on_postgres,
    fakes,  # noqa: F811  (the imported fixture)
    shoppers,
    live_server,
    tmp_path,
):
    try:
        port = int(os.environ.get("KORONTO_TEST_REDIS_PORT") or free_port())
        redis = RedisServer(port, tmp_path / "redis")
    except FileNotFoundError:
        _need("redis-server is not installed")
    redis.start()
    try:
        conf = as_celery_conf(redis_settings(redis.url, visibility_timeout=8, restore_interval=1, restore_throttle=1))
        _run_chaos(
            env={"CELERY_BROKER_URL": redis.url},
            conf=conf,
            outage=redis.kill9,
            recover=redis.start,
            fakes=fakes,
            shoppers=shoppers,
            live_server=live_server,
            tmp_path=tmp_path,
        )
    finally:
        redis.kill9()


def _amqp_url() -> str:
    return os.environ.get("KORONTO_TEST_AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672//"


def _purge_amqp(url: str) -> None:
    """Start from empty queues (a previous run may have left messages for rows that no longer exist)."""
    from kombu import Connection

    with Connection(url, connect_timeout=3) as conn:
        channel = conn.channel()
        for queue in ("celery", "payments"):
            try:
                channel.queue_delete(queue)
            except Exception:  # absent: nothing to delete
                channel = conn.channel()


def test_rabbitmq_connections_cut_twice_and_a_worker_killed_lose_nothing(
    on_postgres,
    fakes,  # noqa: F811  (the imported fixture)
    shoppers,
    live_server,
    tmp_path,
):
    url = _amqp_url()
    parts = urlsplit(url)
    try:
        _purge_amqp(url)
    except Exception as exc:
        _need(f"RabbitMQ at {parts.hostname}:{parts.port or 5672} cannot be reached ({type(exc).__name__})")
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672), free_port())
    netloc = re.sub(r"@[^/]*$", f"@127.0.0.1:{proxy.port}", parts.netloc)
    proxied = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    try:
        _run_chaos(
            env={"CELERY_BROKER_URL": proxied},
            conf=as_celery_conf(amqp_settings(proxied)),
            outage=proxy.cut,
            recover=proxy.restore,
            fakes=fakes,
            shoppers=shoppers,
            live_server=live_server,
            tmp_path=tmp_path,
        )
    finally:
        proxy.cut()
