"""The transactional outbox (docs/DESIGN.md rule 12): work is a committed row; a lost message delays it, never loses it.

Each test loses the message that the commit should have sent (the `dispatched` spy drops it, as a dead
broker would), then shows the outbox sweep finishing the work, and that a second message is a no-op.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pipeline.helpers import buy, pending_with_paid_callback, texts_to
from vending import pipeline
from vending.models import AuditEvent, ProviderCallback, Purchase, SmsMessage, Token
from vending.payments.sandbox import SandboxProvider
from vending.services.payments import payment_initiate
from vending.services.sms import sms_deliver, sms_send
from vending.states import PaymentState, PurchaseState, SmsState
from vending.sweeps import sweep_outbox, sweep_undelivered_sms

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


def _later(seconds: float = 3600) -> timezone.datetime:
    return timezone.now() + timedelta(seconds=seconds)


def test_a_push_whose_message_was_lost_is_sent_by_the_outbox_sweep(
    kenya_meter, dispatched, django_capture_on_commit_callbacks
):
    dispatched.lost.add("push")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    assert purchase.state == PurchaseState.CREATED and purchase.payment.state == PaymentState.INITIATED
    assert sweep_outbox(now=timezone.now()) == 0  # not yet: the message may only be slow
    dispatched.lost.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox(now=_later()) == 1
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert purchase.payment.push_started_at is not None


def test_a_second_push_message_sends_nothing(kenya_meter, dispatched, monkeypatch, django_capture_on_commit_callbacks):
    dispatched.lost.update({"push", "sandbox_callback"})
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    pushes = []
    real = SandboxProvider.initiate
    monkeypatch.setattr(SandboxProvider, "initiate", lambda self, request: pushes.append(1) or real(self, request))
    with django_capture_on_commit_callbacks(execute=True):
        payment_initiate(purchase_id=purchase.pk)
        payment_initiate(purchase_id=purchase.pk)  # a duplicate message, or the sweep racing the first
    assert pushes == [1]
    assert sweep_outbox(now=_later()) == 0  # claimed: never pushed again by the outbox


def test_a_callback_stored_while_the_broker_was_down_is_processed_by_the_sweep(
    kenya_meter, django_capture_on_commit_callbacks
):
    purchase, callback = pending_with_paid_callback(
        kenya_meter, reference="OUTBOX00001"
    )  # stored; its message never sent
    assert sweep_outbox(now=timezone.now()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox(now=_later()) == 1
    assert ProviderCallback.objects.get(pk=callback.pk).processed_at is not None
    assert Purchase.objects.get(pk=purchase.pk).state == PurchaseState.DELIVERED
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.dispatch(pipeline.Work.CALLBACK, callback.pk)  # a late duplicate message: a no-op
    assert Token.objects.filter(purchase=purchase).count() == 1
    assert SmsMessage.objects.filter(purchase=purchase).count() == 1


def test_a_lost_send_is_sent_by_the_sweep_and_a_second_send_is_a_no_op(
    dispatched, monkeypatch, django_capture_on_commit_callbacks
):
    from vending.sms.console import ConsoleSender

    dispatched.lost.add("sms")
    with django_capture_on_commit_callbacks(execute=True):
        [row] = sms_send(phone="+254711000111", text="Hello")
    assert SmsMessage.objects.get(pk=row.pk).status == SmsState.QUEUED
    sent = []
    real = ConsoleSender.send
    monkeypatch.setattr(ConsoleSender, "send", lambda self, phone, text: sent.append(text) or real(self, phone, text))
    dispatched.lost.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox(now=_later()) == 1
    sms_deliver(sms_id=row.pk)  # a redelivered message
    assert sent == ["Hello"]
    assert SmsMessage.objects.get(pk=row.pk).status == SmsState.DELIVERED


def test_a_send_claimed_by_another_worker_is_not_sent_again(monkeypatch):
    from vending.sms.console import ConsoleSender

    [row] = SmsMessage.objects.bulk_create(
        [
            SmsMessage(
                direction="out",
                phone="+254711000111",
                text="Hi",
                status=SmsState.QUEUED,
                send_started_at=timezone.now(),
            )
        ]
    )
    monkeypatch.setattr(ConsoleSender, "send", lambda *a: pytest.fail("sent a row another worker claimed"))
    assert sms_deliver(sms_id=row.pk).status == SmsState.QUEUED
    assert sweep_outbox(now=_later()) == 0


def test_an_inbound_sms_left_received_is_answered_by_the_sweep(dispatched, django_capture_on_commit_callbacks):
    dispatched.lost.add("inbound_sms")
    inbound = SmsMessage.objects.create(
        direction="in",
        phone="+254711000111",
        text="HELP",
        provider="africastalking",
        provider_message_id="ATXid_outbox_1",
        status=SmsState.RECEIVED,
    )
    dispatched.lost.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox(now=_later()) == 1
    assert SmsMessage.objects.get(pk=inbound.pk).status == SmsState.PROCESSED
    assert len(texts_to("+254711000111")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.dispatch(pipeline.Work.INBOUND_SMS, inbound.pk)  # redelivered: no second answer
    assert len(texts_to("+254711000111")) == 1


def test_a_delivery_report_that_overtakes_our_send_is_applied_later(
    kenya_meter, client, settings, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    sms = SmsMessage.objects.get(purchase=purchase)
    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(pk=sms.pk).update(status=SmsState.SENT, provider_message_id="")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/hooks/at/delivery/{settings.WEBHOOK_SECRET}/",
            {"id": "ATXid_early", "status": "Success", "phoneNumber": sms.phone},
        )
    report = ProviderCallback.objects.get(kind="delivery_report")
    assert report.processed_at is None and not report.flagged  # not known yet: kept, not dropped
    SmsMessage.objects.filter(pk=sms.pk).update(provider_message_id="ATXid_early")  # our send commits
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox(now=_later(60)) == 1
    assert Purchase.objects.get(pk=purchase.pk).state == PurchaseState.DELIVERED
    assert ProviderCallback.objects.get(pk=report.pk).processed_at is not None


def test_a_poison_callback_is_flagged_once_not_retried(kenya_meter, monkeypatch, django_capture_on_commit_callbacks):
    from django.db import DataError

    from vending import tasks
    from vending.services import payments

    calls = []

    def poison(**kwargs):
        calls.append(1)
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    _, callback = pending_with_paid_callback(kenya_meter, reference="OUTBOX00001")
    monkeypatch.setattr(payments, "callback_process", poison)
    tasks.callback_process_task.delay(callback.pk)
    callback.refresh_from_db()
    assert calls == [1]  # a permanent error: no retry
    assert callback.flagged and "DataError" in callback.flag_reason and callback.processed_at is not None
    assert sweep_outbox(now=_later()) == 0  # and never dispatched again


def test_a_transient_database_error_is_retried_not_flagged(kenya_meter, monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from vending import tasks
    from vending.services import payments

    _, callback = pending_with_paid_callback(kenya_meter, reference="OUTBOX00001")

    def gone(**kwargs):
        raise OperationalError("connection lost")

    monkeypatch.setattr(payments, "callback_process", gone)
    with pytest.raises(Retry):  # eager: the retry Celery schedules surfaces here
        tasks.callback_process_task.delay(callback.pk)
    callback.refresh_from_db()
    assert not callback.flagged and callback.processed_at is None  # still work to do: the sweep has it


def test_a_token_sms_without_a_report_is_resent_only_after_hours_and_audited(
    kenya_meter, settings, dispatched, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(purchase=purchase).update(status=SmsState.SENT)  # no report came
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undelivered_sms(now=_later(settings.SWEEP_SMS_RESEND_AFTER_SECONDS + 60)) == 0
        assert sweep_undelivered_sms(now=_later(settings.SMS_RESEND_SILENT_AFTER_SECONDS - 60)) == 0
    assert settings.SMS_RESEND_SILENT_AFTER_SECONDS >= 3600  # hours, not minutes
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undelivered_sms(now=_later(settings.SMS_RESEND_SILENT_AFTER_SECONDS + 60)) == 1
    [audit] = AuditEvent.objects.filter(purchase=purchase, action="purchase.token_sms_resent")
    assert "no delivery report" in audit.reason
    assert len(texts_to(purchase.payer_phone)) == 2


def test_a_token_sms_the_gateway_reports_failed_is_resent(kenya_meter, settings, django_capture_on_commit_callbacks):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(purchase=purchase).update(status=SmsState.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undelivered_sms(now=_later(settings.SWEEP_SMS_RESEND_AFTER_SECONDS + 60)) == 1
    [audit] = AuditEvent.objects.filter(purchase=purchase, action="purchase.token_sms_resent")
    assert "failed" in audit.reason
