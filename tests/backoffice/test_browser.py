"""Each role at work in the real admin, in headless Chromium (Playwright driving Debian's chromium).

Skipped when /usr/bin/chromium is missing, except in CI (KORONTO_REQUIRE_SERVICES=1), where it fails.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.backoffice.conftest import PASSWORD, make_staff
from tests.factories import make_meter, make_payment, make_purchase, make_supply_group
from vending.models import AuditEvent, Payment, Purchase, SmsMessage, Token

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

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(tmp_path: Path, monkeypatch):
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("KORONTO_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from config.celery import app

    # Tasks (campaign chunks, SMS sends) run in the live server's thread once their transaction commits.
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
    app.conf.task_always_eager = was_eager


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_support_resends_a_token_and_cannot_reverse_a_payment(browser, live_server):
    support = make_staff("Support")
    purchase = make_purchase(state="vended", quote={"units": 250})
    Token.objects.create(
        purchase=purchase,
        meter=purchase.meter,
        kind="credit",
        token_class=0,
        subclass=0,
        tid=7,
        units=Decimal("25.0"),
        digits="12345678901234567890",
    )
    login(browser, live_server, support.username)

    browser.goto(f"{live_server.url}/admin/backoffice/lookup/?q={purchase.reference}")
    browser.click("#lookup-results >> text=story")
    browser.wait_for_selector("#story")
    assert "•••• 7890" in browser.inner_text("#story")  # masked in the story
    browser.click("#resend-token")
    browser.wait_for_selector(".messagelist")
    assert "Token SMS resent" in browser.inner_text(".messagelist")
    assert SmsMessage.objects.filter(purchase=purchase, phone=purchase.payer_phone).exists()
    assert AuditEvent.objects.filter(action="purchase.token_resent_by_staff", actor=support).count() == 1

    browser.goto(f"{live_server.url}/admin/vending/purchase/")
    options = browser.eval_on_selector_all("select[name=action] option", "els => els.map(e => e.value)")
    assert "resend_token" in options and "refund" not in options
    # Even a hand-made POST of the refund action does nothing for Support.
    browser.evaluate("""() => {
        const form = document.getElementById('changelist-form');
        const select = form.querySelector('select[name=action]');
        const option = document.createElement('option'); option.value = 'refund'; select.appendChild(option);
        select.value = 'refund';
        form.querySelector('input[name=_selected_action]').checked = true;
        form.querySelector('button[name=index]').click();
    }""")
    browser.wait_for_load_state()
    purchase.refresh_from_db()
    assert purchase.state not in ("refund_pending", "refunded")  # "delivered" once the resent SMS arrived
    assert not AuditEvent.objects.filter(action__contains="refund").exists()


def test_key_custodian_runs_a_small_key_change_batch_and_sees_its_progress(browser, live_server):
    custodian = make_staff("Key custodian")
    old_group = make_supply_group(base_date=1993, key_revision=1)
    new_group = make_supply_group(old_group.utility, base_date=2014, key_revision=2, sgc=old_group.sgc)
    meters = [make_meter(supply_group=old_group, base_date=1993) for _ in range(3)]
    login(browser, live_server, custodian.username)

    browser.goto(f"{live_server.url}/admin/vending/meter/?supply_group__id__exact={old_group.pk}")
    browser.check("#action-toggle")
    browser.select_option("select[name=action]", "key_change")
    browser.click("button[name=index]")
    browser.wait_for_selector("#action-form")
    browser.select_option("#id_supply_group", str(new_group.pk))
    browser.select_option("#id_mode", "now")
    browser.select_option("#id_delivery", "show")
    browser.fill("#id_name", "Roll-over batch 1")
    browser.fill("#id_reason", "TID roll-over: base date 1993 to 2014")
    browser.click("input[name=apply]")
    browser.wait_for_selector("#campaign-progress")
    assert "3 of 3 settled (100%): 3 changed" in browser.inner_text("#campaign-counts")
    for meter in meters:
        meter.refresh_from_db()
        assert (meter.supply_group_id, meter.base_date) == (new_group.pk, 2014)
        assert Token.objects.filter(meter=meter, kind="key_change").count() == 2


def test_finance_uploads_a_statement_and_sees_the_mismatches(browser, live_server):
    from tests.backoffice.test_import_reports_reconciliation import mpesa_statement

    finance = make_staff("Finance")
    meter = make_meter()
    paid = make_purchase(meter, amount="500", state="delivered")
    make_payment(paid, provider="daraja", reference="ws_CO_A")
    Payment.objects.filter(purchase=paid).update(state="confirmed", receipt="SFXA", amount_confirmed=Decimal("500"))
    differs = make_purchase(meter, amount="300", state="delivered")
    make_payment(differs, provider="daraja", reference="ws_CO_B")
    Payment.objects.filter(purchase=differs).update(state="confirmed", receipt="SFXB", amount_confirmed=Decimal("300"))
    text = mpesa_statement(
        [
            ("SFXA", "2026-01-15 10:05:00", "500.00", paid.reference),
            ("SFXB", "2026-01-15 10:06:00", "250.00", differs.reference),
            ("SFXC", "2026-01-15 10:07:00", "100.00", "NOSUCHREF"),
        ]
    )
    login(browser, live_server, finance.username)

    browser.goto(f"{live_server.url}/admin/backoffice/reconciliationstatement/add/")
    browser.select_option("#id_source", "mpesa")
    browser.set_input_files(
        "#id_file", files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    browser.click("#upload")
    browser.wait_for_selector("#mismatches")
    table = browser.inner_text("#mismatches")
    assert "Amount differs" in table and "SFXB" in table
    assert "Missing on our side" in table and "SFXC" in table
    assert "SFXA" not in table  # matched lines are not mismatches

    browser.click(".mismatch-missing_ours .resolve-link")
    browser.select_option("#id_action", "acknowledge")
    browser.fill("#id_reason", "test payment from the bank, not a customer")
    browser.click("#upload")
    browser.wait_for_selector(".messagelist")
    assert "Mismatch resolved" in browser.inner_text(".messagelist")
    assert Purchase.objects.count() == 2
