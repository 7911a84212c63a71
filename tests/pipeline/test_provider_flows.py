"""Daraja and WaafiPay flows against the fake servers, webhooks included; the issue's named edge cases."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.pipeline.helpers import buy, texts_to
from vending.models import Payment, ProviderCallback, Token
from vending.services.virtual_meters import meter_enter
from vending.states import PaymentState, PurchaseState
from vending.sweeps import sweep_pending_payments

pytestmark = pytest.mark.django_db


def _post_callbacks(client, capture, fake_daraja, count: int) -> list[int]:
    bodies = fake_daraja.receiver.wait_for(count, timeout=5)
    statuses = []
    for path, body in bodies[:count]:
        with capture(execute=True):
            statuses.append(client.post(path, body, content_type="application/json").status_code)
    return statuses


def test_daraja_purchase_push_callback_token_sms(client, kenya_meter, fake_daraja, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")
    assert purchase.state == PurchaseState.PAYMENT_PENDING and purchase.payment.provider == "daraja"
    push = [r for r in fake_daraja.requests_snapshot() if r["path"].endswith("processrequest")][-1]
    assert push["body"]["AccountReference"] == purchase.reference  # AccountReference: our ≤ 12-character reference

    assert _post_callbacks(client, django_capture_on_commit_callbacks, fake_daraja, 1) == [200]

    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.receipt.startswith("FAK")
    token = purchase.tokens.get()
    assert meter_enter(meter=kenya_meter, token=token.digits).accepted


def test_webhook_with_wrong_secret_is_404(client):
    assert client.post("/hooks/daraja/not-the-secret/", b"{}", content_type="application/json").status_code == 404
    assert client.post("/hooks/at/delivery/not-the-secret/", {"id": "x"}).status_code == 404
    assert not ProviderCallback.objects.exists()


def test_callback_without_a_pending_payment_changes_nothing_and_is_flagged(client, settings):
    body = b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_unknown", "ResultCode": 0}}}'
    settings.DARAJA_CONSUMER_KEY, settings.DARAJA_CONSUMER_SECRET = "k", "s"
    settings.DARAJA_SHORTCODE, settings.DARAJA_PASSKEY = "174379", "p"
    from vending.services.payments import callback_process

    response = client.post(f"/hooks/daraja/{settings.WEBHOOK_SECRET}/", body, content_type="application/json")
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    callback = ProviderCallback.objects.get()
    callback_process(callback_id=callback.pk)
    callback.refresh_from_db()
    assert callback.flagged and "no payment" in callback.flag_reason


def test_duplicate_callback_issues_no_second_token(
    client, kenya_meter, fake_daraja, django_capture_on_commit_callbacks
):
    fake_daraja.set_scenario("254711000111", "duplicate")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)

    assert _post_callbacks(client, django_capture_on_commit_callbacks, fake_daraja, 2) == [200, 200]

    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert Token.objects.filter(purchase=purchase).count() == 1
    assert len(texts_to("+254711000111")) == 1


def test_duplicate_sandbox_callback_issues_no_second_token(kenya_meter, eager, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, phone="+254700000005")
    assert purchase.state == PurchaseState.DELIVERED
    assert Token.objects.filter(purchase=purchase).count() == 1
    assert ProviderCallback.objects.filter(payment=purchase.payment).count() == 1  # the repeat was deduplicated


def test_lost_callback_recovered_by_sweep_query(kenya_meter, fake_daraja, django_capture_on_commit_callbacks):
    fake_daraja.set_scenario("254711000111", "no_callback")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    assert purchase.state == PurchaseState.PAYMENT_PENDING

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_pending_payments(now=timezone.now() + timedelta(seconds=30)) == 0  # too early to ask
        assert sweep_pending_payments(now=timezone.now() + timedelta(minutes=2)) == 1

    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.query_count == 1
    assert any(r["path"].endswith("/stkpushquery/v1/query") for r in fake_daraja.requests_snapshot())
    assert purchase.tokens.filter(kind=Token.Kind.CREDIT).count() == 1


def test_lost_sandbox_callback_recovered_by_sweep_query(kenya_meter, eager, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, phone="+254700000003")  # no callback ever
    assert purchase.state == PurchaseState.PAYMENT_PENDING
    with django_capture_on_commit_callbacks(execute=True):
        sweep_pending_payments(now=timezone.now() + timedelta(minutes=2))
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED


def test_wrong_amount_callback_vends_nothing_and_is_flagged(
    client, kenya_meter, fake_daraja, django_capture_on_commit_callbacks
):
    fake_daraja.set_scenario("254711000111", "wrong_amount")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")

    _post_callbacks(client, django_capture_on_commit_callbacks, fake_daraja, 1)

    purchase.refresh_from_db()
    payment = purchase.payment
    assert purchase.state == PurchaseState.NEEDS_REVIEW
    assert payment.state == PaymentState.NEEDS_REVIEW and payment.flagged and "99" in payment.flag_reason
    assert payment.amount_confirmed is None
    assert ProviderCallback.objects.get(payment=payment).flagged
    assert not Token.objects.exists()
    # A later sweep does not "recover" it by query: it stays with staff.
    with django_capture_on_commit_callbacks(execute=True):
        sweep_pending_payments(now=timezone.now() + timedelta(minutes=5))
    assert not Token.objects.exists()
    assert texts_to("+254711000111")[-1].startswith("Your payment needs a manual check")


def test_waafipay_purchase_holds_vends_then_commits(somali_meter, fake_waafipay, django_capture_on_commit_callbacks):
    purchase = buy(
        django_capture_on_commit_callbacks, somali_meter, phone="+252611000111", wallet="evcplus", amount="5"
    )
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.state == PaymentState.CONFIRMED and purchase.payment.provider == "waafipay"
    services = [r["body"]["serviceName"] for r in fake_waafipay.requests_snapshot()]
    assert services == ["API_PREAUTHORIZE", "API_PREAUTHORIZE_COMMIT"]
    [record] = fake_waafipay.transactions.values()
    assert record["state"] == "COMMITTED" and record["amount"] == Decimal("5.00")


def test_waafipay_timeout_ends_in_query_not_failure(
    somali_meter, fake_waafipay, monkeypatch, django_capture_on_commit_callbacks
):
    from vending import tasks

    fake_waafipay.set_scenario("252611000111", "slow")  # the payer takes longer than our read timeout
    queued = []
    monkeypatch.setattr(tasks.payment_query_task, "apply_async", lambda args, countdown: queued.append(args))
    purchase = buy(
        django_capture_on_commit_callbacks, somali_meter, phone="+252611000111", wallet="evcplus", amount="5"
    )

    payment = Payment.objects.get(purchase=purchase)
    assert payment.state == PaymentState.UNKNOWN and purchase.state == PurchaseState.PAYMENT_PENDING
    assert queued == [[payment.pk]]  # a query is on its way; nothing failed
    assert texts_to("+252611000111") == [
        f"We are confirming your payment. Do not pay again. We will SMS you. Ref {purchase.reference}"
    ]

    for record in fake_waafipay.transactions.values():
        record["ready_at"] = 0  # the payer has answered by now
    with django_capture_on_commit_callbacks(execute=True):
        sweep_pending_payments(now=timezone.now() + timedelta(minutes=2))

    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert fake_waafipay.prompts == 1  # the query replayed the same referenceId: no second PIN prompt
    assert [r["state"] for r in fake_waafipay.transactions.values()] == ["COMMITTED"]


def test_waafipay_vend_failure_releases_the_hold(
    somali_meter, fake_waafipay, monkeypatch, django_capture_on_commit_callbacks
):
    from vending.exceptions import StsError
    from vending.services import tokens

    def refuse(**kwargs):
        raise StsError("the virtual meter refused the new token: CRC error")

    monkeypatch.setattr(tokens, "meter_token_issue", refuse)
    purchase = buy(
        django_capture_on_commit_callbacks, somali_meter, phone="+252611000111", wallet="evcplus", amount="5"
    )
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.REFUNDED and purchase.payment.state == PaymentState.CANCELLED
    assert [r["state"] for r in fake_waafipay.transactions.values()] == ["CANCELLED"]
    assert texts_to("+252611000111")[-1].startswith("We could not create your token. The hold was released")
    assert not Token.objects.exists()
