"""A mobile-money purchase through the API goes through the USSD channel's push pipeline: 202, poll, token."""

import pytest

from tests.api.conftest import purchase_body
from vending.models import AgentSale, FloatEntry, Payment, Token
from vending.services.virtual_meters import meter_enter
from vending.states import PurchaseState

pytestmark = pytest.mark.usefixtures("eager")


def _mobile(meter, phone="+254711000333", **extra):
    return purchase_body(meter, "100", payment={"method": "mobile_money", "wallet": "mpesa", "phone": phone}, **extra)


def test_mobile_money_purchase_ends_in_a_token_via_the_push_pipeline(
    api, kenya_meter, django_capture_on_commit_callbacks
):
    body = _mobile(kenya_meter)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        accepted = api.post("/api/v1/purchases", body, format="json")
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["status"] == "pending" and accepted.json()["tokens"] == []
    assert accepted.json()["url"] == f"/api/v1/purchases/{body['id']}"
    assert callbacks  # the push task was enqueued on commit, as for USSD
    polled = api.get(accepted.json()["url"]).json()
    assert polled["status"] == "completed"
    [token] = polled["tokens"]
    sale = AgentSale.objects.get()
    purchase = sale.purchase
    assert purchase.channel == "api" and purchase.wallet == "mpesa" and purchase.payer_phone == "+254711000333"
    assert Payment.objects.get(purchase=purchase).provider == "sandbox"
    assert purchase.state in (PurchaseState.VENDED, PurchaseState.DELIVERED)
    assert Token.objects.get(purchase=purchase, kind="credit").digits == token["digits"]
    assert FloatEntry.objects.filter(kind="sale").count() == 0  # the wallet paid, not the float
    assert meter_enter(meter=kenya_meter, token=token["digits"]).accepted
    # A retry of the POST answers as the first time (the stored 202), not with a second push.
    with django_capture_on_commit_callbacks(execute=True) as again:
        replay = api.post("/api/v1/purchases", body, format="json")
    assert replay.status_code == 202 and replay.content == accepted.content and not again


def test_a_declined_payment_polls_as_failed(api, kenya_meter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api.post("/api/v1/purchases", _mobile(kenya_meter, phone="+254700000001"), format="json")
    polled = api.get(accepted.json()["url"]).json()
    assert polled["status"] == "failed" and polled["tokens"] == []


def test_mobile_money_purchase_cannot_be_reversed_by_the_agent(api, kenya_meter, django_capture_on_commit_callbacks):
    body = _mobile(kenya_meter)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/purchases", body, format="json")
    refused = api.post(f"/api/v1/purchases/{body['id']}/reversal", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "REVERSAL_NOT_ALLOWED"


def test_a_wallet_that_cannot_pay_the_currency_is_refused(api, kenya_meter):
    body = purchase_body(
        kenya_meter, "100", payment={"method": "mobile_money", "wallet": "evcplus", "phone": "+252611000111"}
    )
    refused = api.post("/api/v1/purchases", body, format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "WALLET_NOT_SUPPORTED"
    assert not AgentSale.objects.exists()
