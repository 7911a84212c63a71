"""e-Dahab purchases through the fake: invoice → the payer approves → the check finds it paid → token SMS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pipeline.helpers import buy, texts_to
from vending.models import Payment
from vending.services.virtual_meters import meter_enter
from vending.states import PaymentState, PurchaseState
from vending.sweeps import sweep_pending_payments

pytestmark = pytest.mark.django_db

PHONE = "+252651234567"  # Somtel: e-Dahab's own network
NUMBER = "651234567"


def _sweep(capture, minutes: float) -> None:
    with capture(execute=True):
        sweep_pending_payments(now=timezone.now() + timedelta(minutes=minutes))


def test_an_edahab_purchase_ends_in_a_token(somali_meter, fake_edahab, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, somali_meter, phone=PHONE, wallet="edahab", amount="5")
    payment = Payment.objects.get(purchase=purchase)
    assert (payment.provider, payment.state, purchase.state) == (
        "edahab",
        PaymentState.PENDING,
        PurchaseState.PAYMENT_PENDING,
    )
    [invoice] = fake_edahab.invoices_snapshot()
    assert payment.provider_reference == invoice

    _sweep(django_capture_on_commit_callbacks, 2)  # the payer has not typed the PIN yet: still open
    payment.refresh_from_db()
    assert payment.state == PaymentState.PENDING

    fake_edahab.approve(invoice)  # the payer approves the prompt
    _sweep(django_capture_on_commit_callbacks, 5)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.receipt.startswith("MP")
    token = purchase.tokens.get()
    assert meter_enter(meter=somali_meter, token=token.digits).accepted
    assert any(token.grouped in text for text in texts_to(PHONE))


def test_a_check_that_times_out_resolves_on_the_next_query(
    somali_meter, fake_edahab, django_capture_on_commit_callbacks
):
    fake_edahab.set_scenario(NUMBER, "check_timeout")
    purchase = buy(django_capture_on_commit_callbacks, somali_meter, phone=PHONE, wallet="edahab", amount="5")
    [invoice] = fake_edahab.invoices_snapshot()
    fake_edahab.approve(invoice)

    _sweep(django_capture_on_commit_callbacks, 2)  # the first check gets no answer in time
    payment = Payment.objects.get(purchase=purchase)
    assert payment.state == PaymentState.PENDING and payment.query_count == 1  # not failed: asked again later

    _sweep(django_capture_on_commit_callbacks, 5)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert len(fake_edahab.invoices_snapshot()) == 1  # one invoice, checked twice: nothing paid twice


def test_an_invoice_that_times_out_is_never_failed(
    somali_meter, fake_edahab, settings, django_capture_on_commit_callbacks
):
    fake_edahab.set_scenario(NUMBER, "slow")  # IssueInvoice blocks past our timeout
    purchase = buy(django_capture_on_commit_callbacks, somali_meter, phone=PHONE, wallet="edahab", amount="5")
    payment = Payment.objects.get(purchase=purchase)
    assert payment.state == PaymentState.UNKNOWN and purchase.state == PurchaseState.PAYMENT_PENDING
    assert texts_to(PHONE) == [
        f"We are confirming your payment. Do not pay again. We will SMS you. Ref {purchase.reference}"
    ]
    # Without the invoice id there is nothing to check and nothing may be re-sent: staff decide, the payer
    # may have paid. The purchase is never marked failed on our own clock.
    _sweep(django_capture_on_commit_callbacks, settings.SWEEP_GIVE_UP_AFTER_SECONDS / 60 + 1)
    payment.refresh_from_db()
    assert payment.state == PaymentState.NEEDS_REVIEW
    assert len(fake_edahab.invoices_snapshot()) == 1


def test_a_declined_invoice_fails_with_a_message(somali_meter, fake_edahab, django_capture_on_commit_callbacks):
    fake_edahab.set_scenario(NUMBER, "decline")
    purchase = buy(django_capture_on_commit_callbacks, somali_meter, phone=PHONE, wallet="edahab", amount="5")
    _sweep(django_capture_on_commit_callbacks, 2)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PAYMENT_FAILED
    assert texts_to(PHONE)  # the payer is told
