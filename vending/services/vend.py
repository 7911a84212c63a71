"""The one vend path: a PAID purchase becomes its token, its token SMS and (for a hold) a capture to do.

`purchase_vend_locked` runs inside the confirming transaction (`payment_confirm`: money in, token and token
SMS commit together); `purchase_vend` is the same thing as a unit of work of its own, for the outbox sweep
and the retry after a failed vend. Both end in the same function, so the two paths cannot drift apart.
"""

import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from vending import pipeline
from vending.exceptions import StsError
from vending.models import Payment, Purchase
from vending.services.sms import token_sms_send
from vending.services.tokens import token_issue_locked
from vending.states import PaymentState, PurchaseState

log = logging.getLogger(__name__)


def purchase_vend_locked(*, payment: Payment, purchase: Purchase, now: datetime, hand_over: bool = True) -> None:
    """Vend a PAID purchase whose row the caller locked in the current transaction.

    The vend has a savepoint of its own: if it fails, the payment stays confirmed and the purchase PAID,
    which is the vend still to do. With `hand_over` (the confirming transaction) a database error is left
    to the vend task; without it (the vend task itself) it propagates, so the task retries a transient
    one and flags the purchase after a permanent one. A refusal by the STS engine is final: a refund is
    recorded instead.
    """
    try:
        with transaction.atomic():
            tokens = token_issue_locked(purchase=purchase, now=now)
            token_sms_send(purchase=purchase, tokens=tokens)
    except StsError as exc:
        log.error("purchase %s: vend failed for good: %s", purchase.reference, exc)
        pipeline.record(pipeline.Work.REFUND, purchase.pk, f"vend failed: {exc}")
        return
    except DatabaseError:
        if not hand_over:
            raise
        log.exception("purchase %s: vend failed for now; left to the vend task", purchase.reference)
        pipeline.record(pipeline.Work.VEND, purchase.pk)
        return
    if payment.state == PaymentState.HELD:
        pipeline.record(pipeline.Work.CAPTURE, payment.pk)


def purchase_vend(*, purchase_id: int, now: datetime | None = None) -> None:
    """Vend the purchase if it is still PAID (a repeat, or a purchase already vended, is a no-op)."""
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
        if purchase.state != PurchaseState.PAID:
            log.info("purchase %s not vendable now (%s)", purchase.reference, purchase.state)
            return
        payment = Payment.objects.get(purchase=purchase)
        purchase_vend_locked(payment=payment, purchase=purchase, now=now or timezone.now(), hand_over=False)
