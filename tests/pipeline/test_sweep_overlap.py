"""Two token-SMS sweeps that overlap text a token once (issue 14 item 8).

The sweep's first pick (`_claim`) gives its row lock back at once, so a second run may pick the same purchase;
a second text of a token is not a no-op, so the resend decides and sends under the purchase's lock. Row locks are
Postgres's: on SQLite `select_for_update` locks nothing and writers are serialised anyway.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.pipeline.helpers import buy, texts_to
from vending import sweeps
from vending.models import Purchase, SmsMessage
from vending.states import PurchaseState, SmsState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager")]


def test_a_run_that_overlaps_a_resend_in_progress_leaves_the_purchase_to_it(
    kenya_meter, monkeypatch, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need Postgres")
    purchase = buy(django_capture_on_commit_callbacks, kenya_meter)
    Purchase.objects.filter(pk=purchase.pk).update(state=PurchaseState.VENDED)
    SmsMessage.objects.filter(purchase=purchase).update(status=SmsState.FAILED)
    later = timezone.now() + timedelta(hours=1)
    real_send = sweeps.token_sms_send
    overlapping: list[int] = []
    started = threading.Event()

    def send_while_another_run_starts(**kwargs):
        # The first run has decided to resend and holds the purchase: a second run starts now, on its own
        # connection, and must not text the token too.
        if not started.is_set():
            started.set()
            other = threading.Thread(target=lambda: overlapping.append(_sweep_on_own_connection(later)))
            other.start()
            other.join(timeout=30)
        return real_send(**kwargs)

    monkeypatch.setattr(sweeps, "token_sms_send", send_while_another_run_starts)
    assert sweeps.sweep_undelivered_sms(now=later) == 1
    assert overlapping == [0]
    assert len(texts_to(purchase.payer_phone)) == 2  # the first text and one resend


def _sweep_on_own_connection(now) -> int:
    try:
        return sweeps.sweep_undelivered_sms(now=now)
    finally:
        connection.close()
