"""Per-phone limits: commands per hour (one "slow down" reply, then silence) and purchases per hour.

The handler is called directly with a fixed `now` (time is controlled); the HTTP path is covered by
the round-trip tests.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.sms_channel.conftest import HOME, KE_PHONE, SO_PHONE
from ussd.sms_commands import BUYS_PER_HOUR, COMMANDS_PER_HOUR, sms_inbound_handle
from vending import i18n
from vending.models import Purchase, SmsMessage
from vending.states import SmsState

NOW = datetime(2026, 3, 4, 7, 10, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture
def answer(world, django_capture_on_commit_callbacks):
    def answer(phone: str, text: str, now: datetime = NOW) -> str | None:
        inbound = SmsMessage.objects.create(
            direction="in",
            phone=phone,
            text=text,
            provider="africastalking",
            provider_message_id=f"ATXid_rl_{next(_ids)}",
            status=SmsState.RECEIVED,
        )
        last = SmsMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        with django_capture_on_commit_callbacks(execute=False):  # no push, no send: only what we answer
            processed = sms_inbound_handle(sms_id=inbound.pk, now=now)
        assert processed.status == SmsState.PROCESSED
        replies = SmsMessage.objects.filter(direction="out", phone=phone, pk__gt=last).order_by("pk")
        return "\n".join(r.text for r in replies) or None

    return answer


def test_a_flood_gets_one_slow_down_reply_then_silence(answer):
    replies = [answer(KE_PHONE, "HELP", NOW + timedelta(seconds=i)) for i in range(COMMANDS_PER_HOUR.max_hits + 5)]
    allowed = COMMANDS_PER_HOUR.max_hits
    assert replies[:allowed] == [i18n.render("sms.help", "en")] * allowed
    assert replies[allowed] == i18n.render("sms.slow_down", "en")
    assert replies[allowed + 1 :] == [None] * 4
    # Another phone is not affected, and the next window starts afresh.
    assert answer(SO_PHONE, "HELP") == i18n.render("sms.help", "so")
    assert answer(KE_PHONE, "HELP", NOW + timedelta(hours=1)) == i18n.render("sms.help", "en")


def test_slow_down_is_in_the_customers_language(answer):
    for _ in range(COMMANDS_PER_HOUR.max_hits):
        answer(SO_PHONE, "CAAWI")
    assert answer(SO_PHONE, "CAAWI") == i18n.render("sms.slow_down", "so")


def test_purchases_per_hour(answer):
    for _ in range(BUYS_PER_HOUR.max_hits):
        assert answer(KE_PHONE, f"BUY {HOME} 100").startswith("Approve the payment prompt")
    assert answer(KE_PHONE, f"BUY {HOME} 100") == i18n.render("sms.buy.too_many", "en")
    assert Purchase.objects.count() == BUYS_PER_HOUR.max_hits
    assert answer(KE_PHONE, "METERS").startswith("Your meters:")  # other commands still work


def test_an_unexpected_failure_still_gets_an_apology_and_is_not_retried_forever(
    world, monkeypatch, eager_tasks, django_capture_on_commit_callbacks
):
    from ussd import sms_commands
    from ussd.tasks import sms_inbound_process_task

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sms_commands, "sms_command_reply", broken)
    inbound = SmsMessage.objects.create(
        direction="in",
        phone=KE_PHONE,
        text="HELP",
        provider="africastalking",
        provider_message_id="ATXid_bug",
        status=SmsState.RECEIVED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sms_inbound_process_task.delay(inbound.pk)
    inbound.refresh_from_db()
    assert (inbound.status, inbound.failure_reason) == (SmsState.PROCESSED, "internal_error")
    reply = SmsMessage.objects.get(direction="out", phone=KE_PHONE)
    assert reply.text == i18n.render("sms.error.generic", "en")
