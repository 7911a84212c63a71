"""A USSD purchase end to end: Africa's Talking's form POSTs to our live server, the END reply, then a real
Celery worker pushes the payment (fake Daraja), vends, and the token SMS reaches the fake Africa's Talking."""

import pytest
import requests
from django.conf import settings as django_settings

from tests.pipeline.test_e2e_worker import broker, fakes  # noqa: F401  (shared fixtures: private broker, fakes)
from tests.pipeline.worker import Worker, wait_until
from tests.ussd.conftest import SERVICE_CODE
from vending.models import Purchase
from vending.states import PurchaseState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "+254711000111"


def test_a_ussd_purchase_ends_in_a_token_sms_for_that_phone(world, live_server, fakes, broker, tmp_path):  # noqa: F811
    url = f"{live_server.url}/hooks/at/ussd/{django_settings.WEBHOOK_SECRET}/"
    session_id = "ATUid_e2e7c898d72eb11"
    replies = []
    worker = Worker({**fakes["env"], **broker.env()}, tmp_path / "worker.log")
    try:
        for text in ("", "1", "1*1", "1*1*500", "1*1*500*1"):  # cumulative text, as AT sends it
            form = {
                "sessionId": session_id,
                "phoneNumber": PHONE,
                "networkCode": "63902",
                "serviceCode": SERVICE_CODE,
                "text": text,
            }
            response = requests.post(url, data=form, timeout=10)
            assert response.status_code == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            replies.append(response.text)

        def delivered() -> bool:
            return Purchase.objects.filter(state=PurchaseState.DELIVERED).exists()

        wait_until(delivered, 60, "the purchase to be delivered")
    finally:
        worker.kill()

    assert [r[:4] for r in replies] == ["CON ", "CON ", "CON ", "CON ", "END "]
    assert replies[-1] == "END Approve the M-Pesa prompt for KES 500 on your phone. Your token will come by SMS."
    purchase = Purchase.objects.get()
    assert (purchase.channel, purchase.payer_phone, purchase.idempotency_key, purchase.meter.drn) == (
        "ussd",
        PHONE,
        f"ussd:{session_id}",
        "04123456784",
    )
    token = purchase.tokens.get(kind="credit")
    texts = [m["message"] for m in fakes["at"].messages if m["to"] == PHONE]
    assert any(token.grouped in text for text in texts)
    assert f"{token.units}" in replies[3]  # the units confirmed on screen are the units on the token
