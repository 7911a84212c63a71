"""The outbox's two questions about rows: which work is still to do, and how to flag work that never can be.

`pending_work` is what `vending.sweeps.sweep_outbox` dispatches again; `flag_work` is what a task calls
(`vending.tasks`) after a permanent failure, so the row is shown to staff once and never dispatched again.
Both callers sit above the services; no service imports this module, so it may call any of them.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from vending.exceptions import InvalidTransition
from vending.models import Payment, ProviderCallback, Purchase, SmsMessage
from vending.services.audit import audit_record
from vending.services.payments import payment_flag_review
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState, SmsState

log = logging.getLogger(__name__)


# The task a stored callback's kind goes to; every other kind is a payment callback.
_CALLBACK_WORK = {
    "delivery_report": "delivery_report",
    "reversal_result": "reversal_result",
    "reversal_timeout": "reversal_result",
}


def pending_work(*, now: datetime, older_than: timedelta, limit: int) -> list[tuple[str, int]]:
    """(work, row id) for every unit of work not done `older_than` after it was committed.

    Only rows no worker has started: a push or a send that was claimed and then lost with its worker
    is an unknown outcome, which the payment-query and the token-SMS sweeps handle (never a blind repeat).
    """
    cutoff = now - older_than
    work: list[tuple[str, int]] = []
    pushes = Payment.objects.filter(
        state=PaymentState.INITIATED, push_started_at__isnull=True, created_at__lt=cutoff
    ).order_by("created_at")
    work += [("push", p.purchase_id) for p in pushes.only("purchase_id")[:limit]]
    callbacks = (
        ProviderCallback.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", "kind")[:limit]
    )
    work += [(_CALLBACK_WORK.get(kind, "callback"), pk) for pk, kind in callbacks]
    inbound = SmsMessage.objects.filter(
        direction=SmsMessage.Direction.INBOUND, status=SmsState.RECEIVED, created_at__lt=cutoff
    ).order_by("created_at")
    work += [("inbound_sms", pk) for pk in inbound.values_list("pk", flat=True)[:limit]]
    outbound = SmsMessage.objects.filter(
        direction=SmsMessage.Direction.OUTBOUND,
        status=SmsState.QUEUED,
        send_started_at__isnull=True,
        created_at__lt=cutoff,
    ).order_by("created_at")
    work += [("sms", pk) for pk in outbound.values_list("pk", flat=True)[:limit]]
    # A PAID purchase (the vend to do) has a sweep of its own, vending.sweeps.sweep_paid_not_vended.
    return work


def flag_work(*, work: str, pk: int, reason: str) -> None:
    """Mark the row of `work` as failed for good (flagged for staff, with the reason), once."""
    reason = reason[:255]
    if work in ("callback", "delivery_report", "reversal_result"):
        ProviderCallback.objects.filter(pk=pk, processed_at__isnull=True).update(
            flagged=True, flag_reason=reason, processed_at=timezone.now()
        )
    elif work == "sms":
        sms = SmsMessage.objects.filter(pk=pk, status=SmsState.QUEUED).first()
        if sms is not None:
            transition(sms, SmsState.FAILED, reason="failed for good", fields={"failure_reason": reason[:80]})
    elif work == "push":
        payment = Payment.objects.filter(purchase_id=pk).first()
        if payment is not None:
            payment_flag_review(payment=payment, reason=f"push failed: {reason}")
    elif work == "vend":
        _purchase_to_review(purchase_id=pk, reason=reason)
    else:
        log.error("pipeline: %s %s failed for good: %s", work, pk, reason)


def _purchase_to_review(*, purchase_id: int, reason: str) -> None:
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
        Payment.objects.filter(purchase=purchase).update(flagged=True, flag_reason=reason)
        try:
            transition(purchase, PurchaseState.NEEDS_REVIEW, reason=reason, locked=True)
        except InvalidTransition:  # already past the step that failed: the flag and audit row say why
            audit_record(action="purchase.work_failed", obj=purchase, reason=reason)
