"""The demo's commands, delivery reports and the SMS / vend sweeps."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.pipeline.helpers import buy, texts_to
from vending.models import ProviderCallback, SmsMessage, Token
from vending.states import PurchaseState, SmsState
from vending.sweeps import sweep_paid_not_vended, sweep_undelivered_sms

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


def test_sms_outbox_and_meter_enter_commands(kenya_meter, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter, amount="500")
    out = StringIO()
    call_command("sms_outbox", "--to", "0711000111", "--json", stdout=out)
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["purchase"] == purchase.reference and record["status"] == "delivered"
    token = purchase.tokens.get()
    assert token.grouped in record["text"]

    out = StringIO()
    call_command("meter_enter", kenya_meter.drn, token.grouped, stdout=out)
    assert out.getvalue().strip() == "Accept: 25.0 kWh, credit 25.0 kWh"


def test_delivery_report_webhook_updates_the_row(client, settings, kenya_meter, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    sms = SmsMessage.objects.get(purchase=purchase)
    SmsMessage.objects.filter(pk=sms.pk).update(status=SmsState.SENT, provider_message_id="ATXid_1")
    url = f"/hooks/at/delivery/{settings.WEBHOOK_SECRET}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"id": "ATXid_1", "status": "Failed", "phoneNumber": sms.phone, "failureReason": "DeliveryFailure"}
        )
        client.post(url, {"id": "ATXid_1", "status": "Buffered", "phoneNumber": sms.phone})  # after a final: ignored
    assert response.status_code == 200
    sms.refresh_from_db()
    assert sms.status == SmsState.FAILED and sms.failure_reason == "DeliveryFailure"
    assert ProviderCallback.objects.filter(kind="delivery_report").count() == 2


def test_undelivered_token_sms_is_resent_by_the_sweep_then_left_for_staff(
    kenya_meter, settings, django_capture_on_commit_callbacks
):
    settings.SWEEP_SMS_MAX_SENDS = 2
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    # Pretend the gateway lost it: the purchase is vended, its SMS failed.
    from vending.models import Purchase

    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(purchase=purchase).update(status=SmsState.FAILED)
    later = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undelivered_sms(now=later) == 1
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED  # the console backend delivered the resend
    assert len(texts_to(purchase.payer_phone)) == 2
    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(purchase=purchase).update(status=SmsState.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undelivered_sms(now=later) == 0  # capped
    assert len(texts_to(purchase.payer_phone)) == 2


def test_paid_but_not_vended_is_vended_by_the_sweep(
    kenya_meter, monkeypatch, dispatched, django_capture_on_commit_callbacks
):
    from django.db import OperationalError

    from vending.services import tokens, vend

    def database_gone(**kwargs):
        raise OperationalError("connection lost mid-vend")

    # The vend inside the confirmation fails for now, and the task that should retry it is lost.
    monkeypatch.setattr(vend, "token_issue_locked", database_gone)
    dispatched.lost.add("vend")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    assert purchase.state == PurchaseState.PAID
    assert dispatched.of("vend") == [(purchase.pk,)]
    monkeypatch.setattr(vend, "token_issue_locked", tokens.token_issue_locked)
    dispatched.lost.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_paid_not_vended(now=timezone.now() + timedelta(minutes=5)) == 1
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert Token.objects.filter(purchase=purchase).count() == 1
