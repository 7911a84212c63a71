"""BUY by SMS end to end with a real Celery worker: AT posts the SMS to our live server, the worker
answers, pushes the payment (fake Daraja), vends, and the token SMS reaches the fake Africa's Talking."""

import pytest
import requests
from django.conf import settings as django_settings

from tests.pipeline.test_e2e_worker import broker, fakes  # noqa: F401  (shared fixtures: private broker, fakes)
from tests.pipeline.worker import Worker, wait_until
from tests.sms_channel.conftest import HOME, KE_PHONE
from ussd import sms_texts  # noqa: F401  (registers the catalogue in this process)
from vending import i18n
from vending.models import Purchase, SmsMessage
from vending.states import PurchaseState, SmsState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _post(live_server, message_id: str, text: str) -> int:
    form = {
        "from": KE_PHONE,
        "to": django_settings.SMS_SHORTCODE,
        "text": text,
        "date": "2026-03-04 10:30:00",
        "id": message_id,
        "linkId": "SampleLinkId123",
        "networkCode": "63902",
    }
    url = f"{live_server.url}/hooks/at/sms/{django_settings.WEBHOOK_SECRET}/"
    return requests.post(url, data=form, timeout=10).status_code


def test_buy_by_sms_ends_in_a_token_sms(world, live_server, fakes, broker, tmp_path):  # noqa: F811
    worker = Worker({**fakes["env"], **broker.env()}, tmp_path / "worker.log")
    try:
        assert _post(live_server, "ATXid_e2e_buy", f"BUY {HOME} 500") == 200
        assert _post(live_server, "ATXid_e2e_buy", f"BUY {HOME} 500") == 200  # AT repeating itself

        def delivered() -> bool:
            return Purchase.objects.filter(state=PurchaseState.DELIVERED).exists()

        wait_until(delivered, 60, "the purchase to be delivered")
    finally:
        worker.kill()

    purchase = Purchase.objects.get()
    assert (purchase.channel, purchase.payer_phone, purchase.idempotency_key, purchase.payment.provider) == (
        "sms",
        KE_PHONE,
        "sms:ATXid_e2e_buy",
        "daraja",
    )
    inbound = SmsMessage.objects.get(direction="in")
    assert inbound.status == SmsState.PROCESSED
    texts = [m["message"] for m in fakes["at"].messages if m["to"] == KE_PHONE]
    token = purchase.tokens.get()
    assert len(texts) == 2
    assert texts[0].startswith(
        i18n.render("sms.buy.prompt", "en", summary="KES 500 = 25.0 kWh", drn=HOME, ref=purchase.reference)
    )
    assert token.grouped in texts[1]
