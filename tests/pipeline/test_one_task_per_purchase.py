"""The hot path after the performance work (issue 4): confirmation, vend and token SMS rows commit
together in the callback's task, the SMS is sent right after the commit in that task, and the
fallbacks (token_issue_task, sms_deliver_task) still take over when that path cannot finish."""

import pytest
from django.db import OperationalError, transaction

from tests.pipeline.helpers import pending_with_paid_callback
from vending import tasks
from vending.models import ProviderCallback, Purchase, SmsMessage, Token
from vending.services import sms as sms_service
from vending.services import tokens
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState, SmsState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


# Real commits (transaction=True): the send happens when the task's own transaction commits, which a
# test wrapped in one transaction would postpone until after the task.
@pytest.mark.django_db(transaction=True)
def test_callback_task_vends_and_sends_without_further_tasks(kenya_meter, dispatched):
    purchase, callback = pending_with_paid_callback(kenya_meter, reference="ONETASK0001")
    tasks.callback_process_task.delay(callback.pk)

    purchase.refresh_from_db()
    assert dispatched.calls == []  # the vend and the send both happened inside the callback's task
    assert purchase.state == PurchaseState.DELIVERED  # console sender: sent is delivered
    assert purchase.payment.state == PaymentState.CONFIRMED
    assert Token.objects.filter(purchase=purchase, kind=Token.Kind.CREDIT).count() == 1
    assert SmsMessage.objects.get(purchase=purchase).status == SmsState.DELIVERED
    assert ProviderCallback.objects.get(pk=callback.pk).processed_at is not None


def test_replayed_callback_task_changes_nothing(kenya_meter, django_capture_on_commit_callbacks):
    purchase, callback = pending_with_paid_callback(kenya_meter, reference="ONETASK0001")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.callback_process_task.delay(callback.pk)
        ProviderCallback.objects.filter(pk=callback.pk).update(processed_at=None)  # as if redelivered
        tasks.callback_process_task.delay(callback.pk)
    assert Token.objects.filter(purchase=purchase).count() == 1
    assert SmsMessage.objects.filter(purchase=purchase).count() == 1


def test_vend_failing_for_now_keeps_the_payment_and_hands_over_to_the_vend_task(
    kenya_meter, monkeypatch, dispatched, django_capture_on_commit_callbacks
):
    from vending.services import vend

    purchase, callback = pending_with_paid_callback(kenya_meter, reference="ONETASK0001")

    def database_gone(**kwargs):
        raise OperationalError("connection lost mid-vend")

    monkeypatch.setattr(vend, "token_issue_locked", database_gone)
    dispatched.lost.add("vend")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.callback_process_task.delay(callback.pk)

    purchase.refresh_from_db()
    assert dispatched.of("vend") == [(purchase.pk,)]
    assert purchase.state == PurchaseState.PAID and purchase.payment.state == PaymentState.CONFIRMED
    assert not Token.objects.filter(purchase=purchase).exists()
    assert not SmsMessage.objects.filter(purchase=purchase).exists()  # no token SMS without a token
    monkeypatch.setattr(vend, "token_issue_locked", tokens.token_issue_locked)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.token_issue_task.delay(purchase.pk)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert Token.objects.filter(purchase=purchase).count() == 1


def test_sandbox_callback_redelivered_after_a_rolled_back_vend_is_processed(
    kenya_meter, django_capture_on_commit_callbacks
):
    purchase, callback = pending_with_paid_callback(
        kenya_meter, reference="ONETASK0001"
    )  # stored, never processed: the vend rolled back
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sandbox_callback_task("sandbox", callback.body, dict(callback.headers))
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.DELIVERED
    assert ProviderCallback.objects.filter(dedupe_key=callback.dedupe_key).count() == 1


@pytest.mark.django_db(transaction=True)
def test_failed_send_in_the_task_is_handed_to_the_retrying_task(kenya_meter, monkeypatch):
    from vending.sms import SmsUnavailable

    purchase, callback = pending_with_paid_callback(kenya_meter, reference="ONETASK0001")
    retried = []

    def gateway_down(sms):
        raise SmsUnavailable("gateway down")

    monkeypatch.setattr(sms_service, "_deliver_row", gateway_down)
    monkeypatch.setattr(
        tasks.sms_deliver_task, "apply_async", lambda args, countdown: retried.append((args, countdown))
    )
    tasks.callback_process_task.delay(callback.pk)
    sms = SmsMessage.objects.get(purchase=purchase)
    assert retried == [([sms.pk], 2)]
    assert sms.status == SmsState.QUEUED
    assert Purchase.objects.get(pk=purchase.pk).state == PurchaseState.VENDED


def test_sms_sent_outside_a_task_goes_through_the_task(kenya_meter, dispatched, django_capture_on_commit_callbacks):
    dispatched.lost.add("sms")
    with django_capture_on_commit_callbacks(execute=True):
        [row] = sms_service.sms_send(phone="+254711000111", text="Hello")
    # e.g. from a web request: never an HTTP call to the gateway in the request
    assert dispatched.calls == [("sms", (row.pk,))]


@pytest.mark.django_db(transaction=True)
def test_transition_on_a_locked_row_needs_the_transaction(kenya_meter):
    purchase, _ = pending_with_paid_callback(kenya_meter, reference="ONETASK0001")
    with pytest.raises(RuntimeError):
        transition(purchase, PurchaseState.PAID, locked=True)  # no transaction: nothing holds the lock
    with transaction.atomic():
        locked = Purchase.objects.select_for_update().get(pk=purchase.pk)
        row, changed = transition(locked, PurchaseState.PAID, reason="test", locked=True)
    assert changed and row is locked
    assert Purchase.objects.get(pk=purchase.pk).state == PurchaseState.PAID
