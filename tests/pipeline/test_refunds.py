"""Refunds that complete (issue 17): an M-Pesa refund goes through Daraja's Transaction Reversal on the fake,
its result callback completes it; a failed reversal stays with staff; a manual refund completes with the
provider's receipt; WaafiPay's reversal is recorded."""

from decimal import Decimal

import pytest

from backoffice.services.review import staff_refund_record_manual
from tests.pipeline.helpers import buy, texts_to
from vending.exceptions import StsError
from vending.models import Payment, ProviderCallback, Purchase, Refund
from vending.states import PaymentState, PurchaseState

pytestmark = pytest.mark.django_db


@pytest.fixture
def reversal(settings, fake_daraja):
    settings.DARAJA_INITIATOR, settings.DARAJA_SECURITY_CREDENTIAL = "koronto-api", "ZW5jcnlwdGVk"
    return fake_daraja


@pytest.fixture
def vend_fails(monkeypatch):
    """The STS engine refuses the vend after the money arrived (the failure that makes a refund due)."""
    import vending.services.vend as vend  # the one vend path, which every channel's paid purchase takes

    def refuse(**kwargs):
        raise StsError("the STS engine refused: test")

    monkeypatch.setattr(vend, "token_issue_locked", refuse)


def _deliver(client, capture, fake, start: int, count: int) -> list[tuple[str, bytes]]:
    """POST what the fake sent to its receiver (from the `start`-th delivery on) to our webhooks."""
    bodies = fake.receiver.wait_for(start + count, timeout=5)[start : start + count]
    for path, body in bodies:
        with capture(execute=True):
            assert client.post(path, body, content_type="application/json").status_code == 200
    return bodies


def test_an_mpesa_refund_completes_through_the_daraja_reversal_flow(
    client, kenya_meter, reversal, vend_fails, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")
    _deliver(client, django_capture_on_commit_callbacks, reversal, 0, 1)  # the STK callback: paid, vend fails
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.REFUND_PENDING
    refund = Refund.objects.get(purchase=purchase)
    assert (refund.method, refund.state, refund.amount) == ("mpesa_reversal", "requested", Decimal("100"))
    request = next(r for r in reversal.requests_snapshot() if r["path"] == "/mpesa/reversal/v1/request")["body"]
    payment = Payment.objects.get(purchase=purchase)
    assert request["TransactionID"] == payment.receipt and request["Amount"] == "100"
    assert request["CommandID"] == "TransactionReversal" and request["Initiator"] == "koronto-api"
    assert request["ResultURL"].endswith(f"/hooks/daraja/reversal/result/{client_secret()}/")
    assert payment.flagged  # until the money is back

    [(path, _)] = _deliver(client, django_capture_on_commit_callbacks, reversal, 1, 1)  # the reversal result
    assert path.startswith("/hooks/daraja/reversal/result/")
    purchase.refresh_from_db()
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert purchase.state == PurchaseState.REFUNDED and payment.state == PaymentState.REFUNDED
    assert refund.state == "completed" and refund.receipt.startswith("FAKR") and not payment.flagged
    assert texts_to("+254711000111")[-1] == f"Your payment of KES 100.00 was refunded. Ref {purchase.reference}"
    # The same result again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, reversal.receiver.wait_for(2)[1][1], content_type="application/json")
    assert Refund.objects.filter(state="completed").count() == 1


def client_secret() -> str:
    from django.conf import settings

    return settings.WEBHOOK_SECRET


def test_a_reversal_daraja_refuses_leaves_the_refund_with_staff(
    client, kenya_meter, reversal, vend_fails, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")
    # Someone reversed it on the M-Pesa portal already: Daraja answers R000001.
    reversal.reversed_receipts.add(reversal.checkouts[next(iter(reversal.checkouts))]["receipt"])
    _deliver(client, django_capture_on_commit_callbacks, reversal, 0, 1)  # paid; vend fails; reversal asked
    _deliver(client, django_capture_on_commit_callbacks, reversal, 1, 1)  # its result
    purchase.refresh_from_db()
    refund = Refund.objects.get(purchase=purchase)
    assert refund.state == "failed" and "R000001" in refund.message
    assert purchase.state == PurchaseState.REFUND_PENDING
    assert Payment.objects.get(purchase=purchase).flagged


def test_an_unmatched_reversal_result_is_flagged(client, settings):
    body = b'{"Result": {"ResultCode": 0, "ConversationID": "AG_nobody", "OriginatorConversationID": "x"}}'
    with_capture = client.post(
        f"/hooks/daraja/reversal/result/{settings.WEBHOOK_SECRET}/", body, content_type="application/json"
    )
    assert with_capture.status_code == 200
    from vending.services.refunds import reversal_result_process

    callback = ProviderCallback.objects.get(kind="reversal_result")
    reversal_result_process(callback_id=callback.pk)
    callback.refresh_from_db()
    assert callback.flagged and "no refund" in callback.flag_reason
    assert client.post("/hooks/daraja/reversal/result/wrong/", body, content_type="application/json").status_code == 404


def test_a_manual_refund_completes_with_the_providers_receipt(
    kenya_meter, fake_daraja, vend_fails, client, django_capture_on_commit_callbacks
):
    from tests.backoffice.conftest import make_staff

    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="100")
    _deliver(client, django_capture_on_commit_callbacks, fake_daraja, 0, 1)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.REFUND_PENDING  # no reversal configured: staff refund by hand
    assert not Refund.objects.exists()
    operator = make_staff("Vending operator")
    with django_capture_on_commit_callbacks(execute=True):
        refund = staff_refund_record_manual(
            actor=operator, purchase=purchase, receipt="SKR4A1B2C3", reason="sent back from the M-Pesa portal"
        )
    purchase.refresh_from_db()
    assert refund.state == "completed" and refund.receipt == "SKR4A1B2C3" and refund.method == "manual"
    assert purchase.state == PurchaseState.REFUNDED
    assert Payment.objects.get(purchase=purchase).state == PaymentState.REFUNDED
    assert texts_to("+254711000111")[-1].startswith("Your payment of KES 100.00 was refunded")


def test_a_waafipay_refund_is_recorded_with_the_providers_reference(
    somali_meter, fake_waafipay, vend_fails, django_capture_on_commit_callbacks
):
    purchase = buy(
        django_capture_on_commit_callbacks, somali_meter, phone="+252611000111", wallet="evcplus", amount="5"
    )
    purchase = Purchase.objects.get(pk=purchase.pk)
    assert purchase.state == PurchaseState.REFUNDED
    refund = Refund.objects.get(purchase=purchase)
    assert refund.method == "provider_api" and refund.state == "completed" and refund.amount == Decimal("5")
