"""The whole demo journey in headless Chromium, against the live server and a real Celery worker.

Dial the USSD code on the simulated handset, buy for a seeded meter, approve the wallet's PIN prompt,
read the token from the SMS inbox, type it into the virtual meter and see the credit; type it again and
see "Used". The page it drives talks to the real webhooks; the worker does the push, the vend and the SMS.
The screenshot in the README (docs/simulator.png) is taken here: `KORONTO_SCREENSHOT=1 make test`.

Skipped when /usr/bin/chromium is missing, except in CI (KORONTO_REQUIRE_SERVICES=1), where it fails.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from demo import interactive
from tests.demo.conftest import DEMO_DRN, DEMO_PHONE
from tests.pipeline.worker import Broker, Worker
from vending.models import Purchase, Token

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshot; retaken only when asked (KORONTO_SCREENSHOT=1), so a test run leaves the tree as it was.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "simulator.png"
TOKEN_RE = re.compile(r"(?<!\d)(\d{4}[ -]?){4}\d{4}(?!\d)")
SLOW = 30_000  # ms: the worker's first tasks (push, vend, SMS) on a cold start

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("KORONTO_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def worker(demo_data, live_server, settings, tmp_path):
    """A real worker on the test database and a private broker; web and worker share one cache."""
    broker = Broker()
    broker.attach()
    if broker.redis_url:
        # The worker's cache is the private Redis database: the page's wallet heartbeat and the prompts
        # the worker stores must be in the same place, so this process (the live server) uses it too.
        settings.CACHES = {"default": {**django_settings.CACHES["default"], "LOCATION": broker.redis_url}}
    settings.PURCHASE_PUSH_COUNTDOWN_SECONDS = 0.5
    settings.USSD_DIALS_PER_HOUR = 10_000
    env = {
        **broker.env(),
        "PURCHASE_PUSH_COUNTDOWN_SECONDS": "0.5",
        "SANDBOX_APPROVE_DELAY_SECONDS": "0.5",
        "DEMO_MODE": "1",
    }
    process = Worker(env, tmp_path / "worker.log")
    yield process
    process.kill()
    interactive.wallet_unregister(phone=DEMO_PHONE)  # in the cache the page used, before it is switched back
    broker.detach()


@pytest.fixture
def page(chromium_path, tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test stay sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium_path,
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # ORM calls made while Playwright's loop runs get their own connection (asgiref's Local follows
        # the context); close it here, or the test database cannot be dropped at the end of the run.
        connections.close_all()
        context.close()


def test_dial_buy_approve_read_the_token_and_load_it_on_the_meter(live_server, worker, page):
    from playwright.sync_api import expect

    screen = page.get_by_test_id("screen-body")
    page.goto(f"{live_server.url}/simulator/?phone=%2B254711000111")
    expect(screen).to_contain_text("Dial *384*44135#")
    expect(page.get_by_test_id("meter-credit")).to_have_text("0.0")

    # Dial on the keypad, then answer each USSD screen (keypad, and the text field like a person typing).
    for key in django_settings.USSD_SERVICE_CODES[0]:
        page.get_by_test_id(f"key-{key}").click()
    page.get_by_test_id("call").click()
    expect(screen).to_contain_text("1. Buy electricity")
    page.get_by_test_id("key-1").click()
    page.get_by_test_id("soft-left").click()
    expect(screen).to_contain_text("Buy: pick a meter")
    expect(screen).to_contain_text(f"1. Home {DEMO_DRN}")
    page.get_by_test_id("key-1").click()
    page.get_by_test_id("call").click()
    expect(screen).to_contain_text("Enter amount, KES")
    page.get_by_test_id("phone-input").fill("500")
    page.get_by_test_id("phone-input").press("Enter")
    expect(screen).to_contain_text("1. Confirm")
    page.get_by_test_id("phone-input").fill("1")
    page.get_by_test_id("soft-left").click()
    expect(screen).to_contain_text("Approve the M-Pesa prompt")

    # The worker pushes the payment; the page shows the sandbox wallet's PIN prompt for this phone.
    expect(screen).to_contain_text("Enter PIN", timeout=SLOW)
    expect(screen).to_contain_text("Pay KES 500.00 to Nairobi Demo Power")
    page.get_by_test_id("phone-input").fill("1234")
    page.get_by_test_id("soft-left").click()
    expect(screen).to_contain_text("paid to Nairobi Demo Power")

    # The token SMS arrives in the inbox.
    sms = page.get_by_test_id("sms").filter(has_text="Token")
    expect(sms).to_have_count(1, timeout=SLOW)
    match = TOKEN_RE.search(sms.inner_text())
    assert match, sms.inner_text()
    purchase = Purchase.objects.get(payer_phone=DEMO_PHONE)
    credit = purchase.tokens.get(kind=Token.Kind.CREDIT)
    assert re.sub(r"\D", "", match.group(0)) == credit.digits
    assert purchase.payment.receipt.startswith("SBX")

    # Typed into the virtual meter: accepted, credit goes up by the token's units.
    page.get_by_test_id("meter-select").select_option(DEMO_DRN)
    page.get_by_test_id("meter-token").press_sequentially(match.group(0))
    page.get_by_test_id("meter-enter").click()
    expect(page.get_by_test_id("meter-display")).to_have_text("Accept")
    expect(page.get_by_test_id("meter-credit")).to_have_text(f"{credit.units:.1f}")
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("KORONTO_SCREENSHOT") == "1":
        SCREENSHOT.write_bytes(shot)

    # The same token again: the meter remembers its TID.
    page.get_by_test_id("meter-token").press_sequentially(match.group(0))
    page.get_by_test_id("meter-enter").click()
    expect(page.get_by_test_id("meter-display")).to_have_text("Used")
    expect(page.get_by_test_id("meter-credit")).to_have_text(f"{credit.units:.1f}")
