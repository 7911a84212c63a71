"""IIBSO by SMS through a real Kannel: fakesmsc (the operator) → bearerbox → smsbox → our MO URL; a real
Celery worker answers, WaafiPay (fake) takes the EVC Plus payment, the token SMS goes out through smsbox's
sendsms to fakesmsc, and Kannel's delivery reports (dlr-url) update the message rows.

Kannel runs from deploy/kannel/kannel.conf.in on free ports (fakes/kannel_box.py); it is skipped when not
installed, except in CI (KORONTO_REQUIRE_SERVICES=1), where that fails."""

import os

import pytest
from django.conf import settings as django_settings

from fakes.kannel_box import KannelBox, missing_binaries
from tests.pipeline.test_e2e_worker import broker, fakes  # noqa: F401  (shared fixtures: private broker, fakes)
from tests.pipeline.worker import Worker, wait_until
from tests.sms_channel.conftest import GURI, SO_PHONE
from vending.models import ProviderCallback, Purchase, SmsAttempt, SmsMessage
from vending.services.sms import latest_token_sms_ids, token_sms_text
from vending.states import PurchaseState, SmsState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kannel(live_server, tmp_path):
    missing = missing_binaries()
    if missing:
        message = f"Kannel is not installed ({', '.join(missing)}): apt-get install kannel kannel-extras"
        if os.environ.get("KORONTO_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    box = KannelBox(
        mo_url=f"{live_server.url}/hooks/sms/kannel/{django_settings.WEBHOOK_SECRET}/", workdir=tmp_path / "kannel"
    )
    box.workdir.mkdir()
    box.start()
    yield box
    box.stop()


def test_iibso_by_sms_through_kannel_ends_in_a_delivered_somali_token_sms(
    world,
    kannel,
    fakes,  # noqa: F811  (the imported fixture)
    broker,  # noqa: F811  (the imported fixture)
    tmp_path,
    settings,
):
    env = {**fakes["env"], **broker.env(), **kannel.settings(), "SMS_ROUTES": "SO=kannel; *=africastalking"}
    for name in ("SMS_ROUTES", *kannel.settings()):
        setattr(settings, name, env[name])
    worker = Worker(env, tmp_path / "worker.log")
    try:
        kannel.send_mo(SO_PHONE, django_settings.SMS_SHORTCODE, f"IIBSO {GURI} 5")

        def delivered() -> bool:
            return Purchase.objects.filter(state=PurchaseState.DELIVERED).exists()

        try:
            wait_until(delivered, 90, "the purchase to be delivered")
        except AssertionError:
            raise AssertionError(f"{kannel.log_text()[-3000:]}\n--- worker ---\n{worker.log()[-3000:]}") from None
    finally:
        worker.kill()

    purchase = Purchase.objects.get()
    assert (purchase.channel, purchase.payer_phone, purchase.language, purchase.payment.provider) == (
        "sms",
        SO_PHONE,
        "so",
        "waafipay",
    )
    inbound = SmsMessage.objects.get(direction="in")
    assert (inbound.gateway, inbound.status, inbound.text) == ("kannel", SmsState.PROCESSED, f"IIBSO {GURI} 5")

    [token_row] = SmsMessage.objects.filter(pk__in=latest_token_sms_ids(purchase))
    assert token_row.text == token_sms_text(purchase=purchase, tokens=list(purchase.tokens.all()))
    assert purchase.tokens.get().grouped in token_row.text
    assert "\nMitir " in token_row.text and "\nTix " in token_row.text  # the Somali catalogue
    assert (token_row.gateway, token_row.route, token_row.status) == ("kannel", "SO>kannel", SmsState.DELIVERED)
    assert (token_row.encoding, token_row.segments) == ("gsm7", 1)
    assert list(SmsAttempt.objects.filter(sms=token_row).values_list("gateway", "outcome")) == [("kannel", "accepted")]

    # The phone (fakesmsc) got exactly that text, once; the Kenyan fake got nothing for this Somali number.
    kannel.wait_for(lambda got: any(m.text == token_row.text for m in got), 10)
    phone_texts = [m.text for m in kannel.received if m.to == SO_PHONE]
    assert phone_texts.count(token_row.text) == 1
    assert not [m for m in fakes["at"].messages if m["to"] == SO_PHONE]
    # Kannel's reports for it came back through the dlr-url: accepted by the SMSC (8), then delivered (1).
    reports = ProviderCallback.objects.filter(
        provider="kannel", kind="delivery_report", body__contains=token_row.provider_message_id
    )
    assert sorted(r.body.split("type=")[1][0] for r in reports) == ["1", "8"]
    assert all(r.processed_at and not r.flagged for r in reports)
