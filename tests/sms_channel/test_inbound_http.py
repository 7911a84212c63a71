"""POST /hooks/at/sms/<secret>/ as Africa's Talking sends it: store, 200 at once, answer once."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sms_channel.conftest import KE_PHONE
from vending.models import SmsMessage
from vending.states import SmsState

_phones = itertools.count(1)


def test_a_message_is_stored_answered_and_marked_processed(at):
    reply = at.send(KE_PHONE, "HELP", message_id="ATXid_help1")
    inbound = SmsMessage.objects.get(direction="in", provider_message_id="ATXid_help1")
    assert (inbound.phone, inbound.text, inbound.provider, inbound.status) == (
        KE_PHONE,
        "HELP",
        "africastalking",
        SmsState.PROCESSED,
    )
    assert reply.startswith("Koronto SMS: BUY meter amount")
    assert SmsMessage.objects.filter(direction="out", phone=KE_PHONE).get().status == SmsState.DELIVERED


def test_repeated_inbound_id_is_processed_once(at):
    form = at.form(KE_PHONE, "METERS", "ATXid_repeat")
    first, second, third = at.post(form), at.post(form), at.post(form)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert SmsMessage.objects.filter(direction="in", provider_message_id="ATXid_repeat").count() == 1
    assert SmsMessage.objects.filter(direction="out", phone=KE_PHONE).count() == 1


def test_redelivered_task_does_not_answer_twice(at):
    from ussd.tasks import sms_inbound_process_task

    at.send(KE_PHONE, "HELP", message_id="ATXid_redeliver")
    inbound = SmsMessage.objects.get(direction="in", provider_message_id="ATXid_redeliver")
    sms_inbound_process_task.delay(inbound.pk)  # as if the broker delivered the task again
    assert SmsMessage.objects.filter(direction="out", phone=KE_PHONE).count() == 1


def test_same_text_with_a_new_id_is_a_new_message(at):
    assert at.send(KE_PHONE, "HELP", "ATXid_a") and at.send(KE_PHONE, "HELP", "ATXid_b")
    assert SmsMessage.objects.filter(direction="in", phone=KE_PHONE).count() == 2


def test_wrong_secret_is_404_and_stores_nothing(at):
    response = at.post(at.form(KE_PHONE, "HELP"), secret="not-the-secret")
    assert response.status_code == 404
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("missing", ["from", "text"])
def test_request_without_sender_or_text_is_400(at, missing):
    form = at.form(KE_PHONE, "HELP")
    del form[missing]
    assert at.post(form).status_code == 400
    assert not SmsMessage.objects.exists()


def test_only_the_documented_fields_are_needed(at):
    # linkId and networkCode are optional (docs/PROTOCOLS.md §2.1); unknown extra fields are accepted.
    form = {
        "from": KE_PHONE,
        "to": "44135",
        "text": "HELP",
        "date": "2026-03-04 10:30:00",
        "id": "ATXid_min",
        "cost": "KES 0.00",
    }
    assert at.post(form).status_code == 200
    assert SmsMessage.objects.get(direction="in").status == SmsState.PROCESSED


def test_missing_id_still_deduplicates_on_sender_date_and_text(at):
    form = at.form(KE_PHONE, "HELP")
    del form["id"]
    at.post(form)
    at.post(form)
    assert SmsMessage.objects.filter(direction="in").count() == 1


def test_a_sender_that_is_not_a_phone_is_acknowledged_and_dropped(at):
    assert at.post(at.form("Safaricom", "Your bundle expires")).status_code == 200
    assert not SmsMessage.objects.exists()


def test_sender_is_normalised_to_e164(at):
    at.send("0711000111", "HELP")
    assert SmsMessage.objects.get(direction="in").phone == KE_PHONE


def test_get_is_refused_without_a_5xx(client, world):
    from django.conf import settings as django_settings

    assert client.get(f"/hooks/at/sms/{django_settings.WEBHOOK_SECRET}/").status_code == 405


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_gives_a_reply_and_never_a_5xx(at, text):
    phone = f"+25471{next(_phones):07d}"  # a fresh sender each time, so no rate limit is reached
    reply = at.send(phone, text)
    assert reply.strip()
    assert SmsMessage.objects.get(direction="in", phone=phone).status == SmsState.PROCESSED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.sampled_from(
            [
                "BUY",
                "IIBSO",
                "NUNUA",
                "TOKEN",
                "ADD",
                "REMOVE",
                "STATUS",
                "LANG",
                "MITA",
                "04123456784",
                "0100000000016",
                "Home",
                "Guri",
                "500",
                "$10",
                "0",
                "EVC",
                "MPESA",
                "SW",
                "xx",
                "1,000",
                "04123456785",
            ]
        ),
        max_size=5,
    )
)
def test_any_command_shaped_text_gives_a_reply_and_never_a_5xx(at, words):
    phone = f"+25471{next(_phones):07d}"
    assert at.send(phone, " ".join(words)).strip()


def test_a_nul_character_is_dropped_not_a_5xx(at):
    assert at.send(KE_PHONE, "HE\x00LP", message_id="ATXid_\x00nul") == at.send(KE_PHONE, "HELP")
    assert SmsMessage.objects.filter(direction="in", provider_message_id="ATXid_nul").exists()
