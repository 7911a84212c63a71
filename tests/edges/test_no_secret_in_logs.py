"""No log line carries a webhook secret, a vending key, a provider PIN/passkey or a 20-digit token.

Drives every webhook's error paths (404 wrong secret, 405, 400, unreadable bodies, a 500 whose
exception quotes the path) and a full purchase, with the current and the previous (rotation) secret, and
scans what the configured handlers wrote: Django's (in process), Celery's handlers (their filter), and a
real gunicorn's access and error logs run with deploy/gunicorn.conf.py.
"""

import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility
from tests.pipeline.helpers import buy
from vending.logsafety import MaskSecretsFilter, install_celery, mask_secrets
from vending.models import Token

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SECRET = "Rot8-current-webhook-secret-0123456789"
PREVIOUS = "Rot7-previous-webhook-secret-9876543210"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
_TOKEN = re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)")

HOOKS = {
    "daraja": (
        "/hooks/daraja/{}/",
        b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_x", "ResultCode": 1032}}}',
        "application/json",
    ),
    "ussd": (
        "/hooks/at/ussd/{}/",
        b"sessionId=s1&phoneNumber=%2B254711000111&serviceCode=%2A384%2A44135%23&text=",
        "application/x-www-form-urlencoded",
    ),
    "sms": (
        "/hooks/at/sms/{}/",
        b"from=%2B254711000111&to=44135&text=HELP&id=ATXid_log",
        "application/x-www-form-urlencoded",
    ),
    "delivery": ("/hooks/at/delivery/{}/", b"id=nope&status=Failed", "application/x-www-form-urlencoded"),
}


@pytest.fixture
def secrets(settings):
    settings.WEBHOOK_SECRET, settings.WEBHOOK_SECRET_PREVIOUS = SECRET, PREVIOUS
    return settings


@pytest.fixture
def captured():
    """What the configured (masked) handlers of the root logger write, instead of stderr."""
    buffer = io.StringIO()
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and any(isinstance(f, MaskSecretsFilter) for f in h.filters)
    ]
    assert handlers, "the LOGGING console handler is not installed"
    saved = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, saved, strict=True):
        handler.setStream(stream)


def _leaks(text: str, extra: list[str]) -> list[str]:
    found = [value for value in (SECRET, PREVIOUS, PASSKEY, *extra) if value and value.lower() in text.lower()]
    return found + _TOKEN.findall(text)


def _drive_every_webhook(client: Client) -> list[int]:
    statuses = []
    for path, body, content_type in HOOKS.values():
        for secret in (SECRET, PREVIOUS, SECRET[:-1], "wrong" + SECRET):
            url = path.format(secret)
            statuses.append(client.generic("POST", url, body, content_type=content_type).status_code)
            statuses.append(client.get(url).status_code)  # 405
            statuses.append(client.generic("POST", url, b"\x00\xff", content_type=content_type).status_code)
            statuses.append(client.generic("POST", url, b"", content_type="text/plain").status_code)
    return statuses


def test_every_handler_in_the_logging_tree_masks():
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in logging.Logger.manager.loggerDict]
    unmasked = [
        (lg.name, h)
        for lg in loggers
        for h in lg.handlers
        if "pytest" not in type(h).__module__
        and not isinstance(h, logging.NullHandler)
        and not any(isinstance(f, MaskSecretsFilter) for f in h.filters)
    ]
    assert unmasked == []


def test_webhook_error_paths_and_a_purchase_log_no_secret(
    secrets, captured, monkeypatch, eager, django_capture_on_commit_callbacks
):
    secrets.DARAJA_PASSKEY = PASSKEY
    group = make_supply_group(make_utility("KE", "KES"))
    meter = make_meter(supply_group=group, tariff=make_flat_tariff(group.utility, price="20"))
    vending_key = group.vending_key().hex()

    client = Client(raise_request_exception=False)
    statuses = _drive_every_webhook(client)
    assert {200, 400, 404, 405} <= set(statuses) and max(statuses) < 500

    # A 500 whose exception and traceback quote the path, the secret and a token-shaped number.
    from vending.views import webhooks

    def boom(**kwargs):
        raise RuntimeError(f"failed on /hooks/daraja/{SECRET}/ with 1234 5678 9012 3456 7890 and {PASSKEY}")

    monkeypatch.setattr(webhooks, "callback_store", boom)
    assert client.post(f"/hooks/daraja/{SECRET}/", b"{}", content_type="application/json").status_code == 500
    monkeypatch.undo()

    purchase = buy(django_capture_on_commit_callbacks, meter, amount="100")
    tokens = list(Token.objects.filter(purchase=purchase).values_list("digits", flat=True))
    assert tokens

    text = captured.getvalue()
    assert "Not Found: /hooks/daraja/[masked]/" in text  # the lines are there, masked
    assert "Method Not Allowed (GET): /hooks/at/sms/[masked]/" in text
    assert "Internal Server Error: /hooks/daraja/[masked]/" in text and "RuntimeError" in text
    assert _leaks(text, [vending_key, *tokens]) == []


def test_celery_worker_handlers_get_the_filter():
    from celery.signals import after_setup_logger

    install_celery()
    logger, handler, stream = logging.getLogger("celery-test-root"), logging.StreamHandler(), io.StringIO()
    handler.setStream(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        after_setup_logger.send(
            sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False
        )
        logger.error("Task failed for /hooks/at/delivery/%s/ token 12345678901234567890", SECRET)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().startswith("Task failed for /hooks/at/delivery/[masked]/ token 1234-****")


def _free_port() -> int:
    wanted = os.environ.get("KORONTO_TEST_GUNICORN_PORT")
    if wanted:
        return int(wanted)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_and_error_logs_with_the_shipped_config_mask_the_secret(tmp_path):
    from tests.pipeline.worker import Broker, test_database_url

    broker = Broker()
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {
        **os.environ,
        **broker.env(),
        "DATABASE_URL": test_database_url(),
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_SECRET_PREVIOUS": PREVIOUS,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": str(access),
        "GUNICORN_ERROR_LOG": str(errors),
        "LOG_LEVEL": "INFO",
    }
    if "REDIS_URL" not in broker.env():
        env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    statuses = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/admin/login/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        for path, body, content_type in HOOKS.values():
            for secret in (SECRET, PREVIOUS, "wrong" + SECRET):
                for data in (body, b"\x00\xff garbage", None):
                    request = urllib.request.Request(
                        f"{base}{path.format(secret)}?s={secret}",
                        data=data,
                        headers={"Content-Type": content_type, "Referer": f"{base}{path.format(secret)}"},
                    )
                    try:
                        with urllib.request.urlopen(request, timeout=20) as response:
                            statuses.append(response.status)
                    except urllib.error.HTTPError as exc:
                        statuses.append(exc.code)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert max(statuses) < 500 and {200, 404, 405} <= set(statuses)
    access_text, error_text = access.read_text(), errors.read_text()
    assert access_text.count("/hooks/") >= len(statuses)  # one masked line per request
    assert "/hooks/at/sms/[masked]/" in access_text
    assert _leaks(access_text + error_text, []) == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_logs_task_arguments_masked(tmp_path):
    """At DEBUG a worker logs each task's arguments ("TaskPool: Apply ... args"): they come out masked."""
    from config.celery import app as celery_app
    from tests.pipeline.worker import Broker, test_database_url, wait_until

    broker = Broker()
    broker.attach()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        **broker.env(),
        "DATABASE_URL": test_database_url(),
        "WEBHOOK_SECRET": SECRET,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    if "REDIS_URL" not in broker.env():
        env.pop("REDIS_URL", None)
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "celery",
                "-c",
                "1",
                "--pool",
                "threads",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "DEBUG",
                "-n",
                f"logscan-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    token = "12345678901234567890"
    try:
        wait_until(lambda: "ready" in log_path.read_text(errors="replace"), 90, "the worker to start")
        # A refund for a purchase that does not exist: the task fails, and its reason quotes a webhook path
        # with the secret and a token-shaped number.
        celery_app.send_task(
            "vending.tasks.refund_task", args=[0, f"seen on /hooks/at/sms/{SECRET}/ with {token} and {SECRET}"]
        )
        wait_until(
            lambda: (
                "refund_task" in log_path.read_text(errors="replace")
                and "DoesNotExist" in log_path.read_text(errors="replace")
            ),
            60,
            "the task to run and fail",
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        broker.detach()
    text = log_path.read_text(errors="replace")
    assert "/hooks/at/sms/[masked]/" in text  # the argument line is there, masked
    assert _leaks(text, []) == []


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        # A float's fraction is no key: Celery's run time stays readable.
        ("Task x succeeded in 0.004211893200012345s: 0", "0.004211893200012345s", None),
        # A DKGA02 key (16 hex digits), and one made only of decimal digits, are redacted wherever they stand…
        ("key 0abc1234def56789 loaded", "[redacted-key]", "0abc1234def56789"),
        ("key=1234567890123456", "[redacted-key]", "1234567890123456"),
        # …also after a dot when it holds a hex letter, or after a dot that follows no digit.
        ("v.0abc1234def56789", "[redacted-key]", "0abc1234def56789"),
        ("end.1234567890123456", "[redacted-key]", "1234567890123456"),
    ],
)
def test_long_hex_runs_are_redacted_but_a_floats_fraction_is_not(line, kept, gone):
    masked = mask_secrets(line)
    assert kept in masked
    if gone:
        assert gone not in masked
