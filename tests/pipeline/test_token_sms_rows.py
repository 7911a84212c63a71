"""Which SMS rows are a purchase's token SMS, and how many sends there were, is on the rows (issue 14 item 7):
`SmsMessage.token_send`. The audit events still record every send; nothing reads them as state any more."""

import importlib

import pytest
from django.apps import apps

from tests.pipeline.helpers import buy
from vending.models import AuditEvent, SmsMessage
from vending.services.audit import audit_record
from vending.services.sms import (
    TOKEN_SMS_ACTION,
    customer_notice_send,
    latest_token_sms_ids,
    token_sms_count,
    token_sms_send,
)
from vending.services.tokens import token_resend

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


def test_each_send_of_the_token_sms_numbers_its_rows_and_is_still_audited(
    kenya_meter, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    [first] = SmsMessage.objects.filter(purchase=purchase)
    assert first.token_send == 1 and token_sms_count(purchase) == 1
    with django_capture_on_commit_callbacks(execute=True):
        token_resend(purchase=purchase, phone=purchase.payer_phone)
        customer_notice_send(purchase=purchase, key="pipeline.unknown")  # not the token SMS
    [second] = SmsMessage.objects.filter(purchase=purchase, token_send=2)
    assert latest_token_sms_ids(purchase) == [second.pk] and token_sms_count(purchase) == 2
    assert SmsMessage.objects.filter(purchase=purchase, token_send__isnull=True).count() == 1
    events = AuditEvent.objects.filter(purchase=purchase, action=TOKEN_SMS_ACTION).order_by("pk")
    assert [(e.data["sms_ids"], e.data["send"]) for e in events] == [([first.pk], 1), ([second.pk], 2)]


def test_the_latest_send_is_every_part_of_it_and_read_from_the_rows_alone(
    kenya_meter, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    token_sms_send(purchase=purchase)
    latest = list(SmsMessage.objects.filter(purchase=purchase, token_send=2).values_list("pk", flat=True))
    # A long resend in two parts, written without any audit event: the rows alone say what it is.
    extra = [
        SmsMessage.objects.create(
            direction=SmsMessage.Direction.OUTBOUND,
            phone=purchase.payer_phone,
            text=f"({n}/2) …",
            status="queued",
            purchase=purchase,
            token_send=3,
        ).pk
        for n in (1, 2)
    ]
    assert latest and latest_token_sms_ids(purchase) == extra and token_sms_count(purchase) == 3


def test_the_data_migration_numbers_existing_token_sms_rows_from_their_audit_events(
    kenya_meter, django_capture_on_commit_callbacks
):
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    [first] = SmsMessage.objects.filter(purchase=purchase)
    resent = [
        SmsMessage.objects.create(
            direction=SmsMessage.Direction.OUTBOUND,
            phone=purchase.payer_phone,
            text=f"({n}/2) …",
            status="sent",
            purchase=purchase,
        )
        for n in (1, 2)
    ]
    notice = SmsMessage.objects.create(
        direction=SmsMessage.Direction.OUTBOUND,
        phone=purchase.payer_phone,
        text="notice",
        status="sent",
        purchase=purchase,
    )
    audit_record(action=TOKEN_SMS_ACTION, obj=purchase, data={"sms_ids": [r.pk for r in resent]})
    SmsMessage.objects.update(token_send=None)  # as the rows were before the field existed

    migration = importlib.import_module("vending.migrations.0010_sms_token_send")
    migration.number_the_token_sms_sends(apps, None)

    sends = dict(SmsMessage.objects.values_list("pk", "token_send"))
    assert sends == {first.pk: 1, resent[0].pk: 2, resent[1].pk: 2, notice.pk: None}
    assert latest_token_sms_ids(purchase) == [r.pk for r in resent] and token_sms_count(purchase) == 2
