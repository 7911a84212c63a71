"""Refunds that complete: a refund is done when the provider says the money went back, or when staff
record the provider's receipt for a refund made by hand (docs/REFUNDS.md).

- M-Pesa: `refund_reversal_start` asks Daraja for a Transaction Reversal; the result callback (stored by
  the webhook, applied by `reversal_result_process`) completes or fails the Refund row.
- WaafiPay cancel / reversal and the sandbox: the pipeline's purchase_refund gets the answer at once;
  `refund_record_provider` keeps it as a completed Refund.
- By hand: `refund_record_manual` records the receipt and completes it.
Completing moves the payment and the purchase to refunded, clears the payment's flag and tells the buyer.
"""

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from vending.exceptions import InvalidTransition, VendingError
from vending.models import Payment, ProviderCallback, Purchase, Refund
from vending.payments.base import InvalidCallback, OutcomeUnknown, PaymentError
from vending.payments.daraja import DarajaProvider
from vending.payments.daraja_reversal import parse_reversal_result, request_reversal
from vending.payments.registry import DARAJA
from vending.services.audit import audit_record
from vending.services.providers import provider_named
from vending.services.sms import customer_notice_send
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState

log = logging.getLogger(__name__)

REVERSAL_RESULT = "reversal_result"
REVERSAL_TIMEOUT = "reversal_timeout"


def reversal_urls() -> tuple[str, str]:
    """(ResultURL, QueueTimeOutURL) for Daraja reversal requests; the last segment is WEBHOOK_SECRET."""
    base = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/daraja/reversal"
    return f"{base}/result/{settings.WEBHOOK_SECRET}/", f"{base}/timeout/{settings.WEBHOOK_SECRET}/"


def _to_refund_pending(purchase: Purchase, *, actor: User | None, reason: str) -> Purchase:
    if purchase.state == PurchaseState.REFUND_PENDING:
        return purchase
    purchase, _ = transition(purchase, PurchaseState.REFUND_PENDING, actor=actor, reason=reason[:255])
    return purchase


def refund_reversal_start(*, purchase: Purchase, actor: User | None, reason: str) -> Refund:
    """Ask Daraja to reverse the M-Pesa payment of `purchase`; the Refund stays `requested` until the result."""
    payment = Payment.objects.get(purchase=purchase)
    if payment.provider != DARAJA or not payment.receipt:
        raise InvalidTransition("Only a confirmed M-Pesa payment with a receipt can be reversed through Daraja.")
    if purchase.refunds.filter(state__in=[Refund.State.REQUESTED, Refund.State.COMPLETED]).exists():
        raise InvalidTransition(f"Purchase {purchase.reference} already has a refund requested or done.")
    provider = provider_named(DARAJA)
    if not isinstance(provider, DarajaProvider):
        raise InvalidTransition("Daraja is not configured: record a refund made by hand instead.")
    with transaction.atomic():
        purchase = _to_refund_pending(purchase, actor=actor, reason=reason)
        refund = Refund.objects.create(
            purchase=purchase,
            payment=payment,
            method=Refund.Method.MPESA_REVERSAL,
            amount=payment.amount_confirmed or purchase.amount,
            currency=purchase.currency,
            requested_by=actor,
        )
    result_url, timeout_url = reversal_urls()
    try:
        accepted = request_reversal(
            provider,
            initiator=settings.DARAJA_INITIATOR,
            security_credential=settings.DARAJA_SECURITY_CREDENTIAL,
            receipt=payment.receipt,
            amount=refund.amount,
            result_url=result_url,
            timeout_url=timeout_url,
            remarks=f"Refund {purchase.reference}",
        )
    except OutcomeUnknown as exc:
        # It may have been accepted: the result callback (if any) still finds nothing to match, so staff check.
        Refund.objects.filter(pk=refund.pk).update(message=f"outcome unknown: {exc}"[:255])
        raise VendingError("M-Pesa did not answer in time; check the statement before trying again.") from exc
    except PaymentError as exc:
        Refund.objects.filter(pk=refund.pk).update(state=Refund.State.FAILED, message=str(exc)[:255])
        raise VendingError(f"M-Pesa refused the reversal: {exc}") from exc
    Refund.objects.filter(pk=refund.pk).update(
        provider_reference=accepted.conversation_id,
        originator_reference=accepted.originator_conversation_id,
        message=accepted.message[:255],
    )
    audit_record(
        action="refund.reversal_requested",
        obj=purchase,
        actor=actor,
        reason=reason[:255],
        data={"refund_id": refund.pk, "conversation_id": accepted.conversation_id},
    )
    refund.refresh_from_db()
    return refund


def reversal_try(*, purchase: Purchase, actor: User | None, reason: str) -> Refund | None:
    """Start an M-Pesa reversal for a purchase waiting for its refund, when Daraja reversal is configured
    and nothing was tried yet; otherwise (or if M-Pesa refuses) the refund stays with staff (flagged)."""
    if purchase.state != PurchaseState.REFUND_PENDING or not settings.DARAJA_INITIATOR:
        return None
    payment = Payment.objects.get(purchase=purchase)
    if payment.provider != DARAJA or not payment.receipt or purchase.refunds.exists():
        return None
    try:
        return refund_reversal_start(purchase=purchase, actor=actor, reason=reason)
    except VendingError as exc:
        log.warning("purchase %s: reversal not started: %s", purchase.reference, exc)
        return None


def reversal_result_process(*, callback_id: int) -> Refund | None:
    """Apply a stored reversal result (or queue timeout) to its Refund; an unmatched one is flagged."""
    callback = ProviderCallback.objects.get(pk=callback_id)
    if callback.processed_at is not None:
        return None
    try:
        result = parse_reversal_result(callback.body.encode())
    except InvalidCallback as exc:
        ProviderCallback.objects.filter(pk=callback.pk).update(
            flagged=True, flag_reason=str(exc)[:255], processed_at=timezone.now()
        )
        return None
    refund = (
        Refund.objects.filter(method=Refund.Method.MPESA_REVERSAL, provider_reference=result.conversation_id).first()
        if result.conversation_id
        else None
    )
    if refund is None and result.originator_conversation_id:
        refund = Refund.objects.filter(originator_reference=result.originator_conversation_id).first()
    if refund is None:
        ProviderCallback.objects.filter(pk=callback.pk).update(
            flagged=True, flag_reason="no refund with this conversation id", processed_at=timezone.now()
        )
        return None
    with transaction.atomic():
        ProviderCallback.objects.filter(pk=callback.pk).update(processed_at=timezone.now(), payment=refund.payment)
        if refund.state != Refund.State.REQUESTED:
            return refund  # a repeat: the first result stands
        if callback.kind == REVERSAL_RESULT and result.ok:
            return refund_complete(refund=refund, receipt=result.transaction_id, message=result.message)
        # A failed or timed-out reversal: the money is still with us; staff decide (again, or by hand).
        reason = f"reversal failed: {result.result_code} {result.message}"[:255]
        Refund.objects.filter(pk=refund.pk).update(state=Refund.State.FAILED, message=reason)
        Payment.objects.filter(pk=refund.payment_id).update(flagged=True, flag_reason=reason)
        audit_record(action="refund.reversal_failed", obj=refund.purchase, reason=reason, data={"refund_id": refund.pk})
    refund.refresh_from_db()
    return refund


def refund_complete(
    *, refund: Refund, receipt: str, message: str = "", actor: User | None = None, now: datetime | None = None
) -> Refund:
    """The money is back: the Refund, the payment and the purchase say so, and the buyer is told."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("purchase", "payment").get(pk=refund.pk)
        if locked.state == Refund.State.COMPLETED:
            return locked
        locked.state, locked.receipt, locked.completed_at = Refund.State.COMPLETED, receipt[:64], now
        locked.message = (message or locked.message)[:255]
        locked.save(update_fields=["state", "receipt", "completed_at", "message"])
        payment = locked.payment
        if payment.state != PaymentState.REFUNDED:
            transition(payment, PaymentState.REFUNDED, actor=actor, reason=f"refund receipt {receipt}"[:255])
        Payment.objects.filter(pk=payment.pk).update(flagged=False, flag_reason="")
        purchase = _to_refund_pending(locked.purchase, actor=actor, reason="refund completed")
        purchase, changed = transition(
            purchase, PurchaseState.REFUNDED, actor=actor, reason=f"refund receipt {receipt}"[:255]
        )
        audit_record(
            action="refund.completed",
            obj=purchase,
            actor=actor,
            data={
                "refund_id": locked.pk,
                "method": locked.method,
                "receipt": receipt,
                "amount": str(locked.amount),
                "currency": locked.currency,
            },
        )
        if changed:
            customer_notice_send(
                purchase=purchase, key="pipeline.refunded", currency=purchase.currency, amount=f"{locked.amount:.2f}"
            )
    return locked


def refund_record_manual(
    *, purchase: Purchase, receipt: str, actor: User, reason: str, amount: Decimal | None = None
) -> Refund:
    """Staff sent the money back outside the API (M-Pesa portal, cash): record the receipt, complete."""
    receipt = (receipt or "").strip()
    if len(receipt) < 4:
        raise VendingError("Enter the provider's receipt for the money sent back.")
    if purchase.state not in (PurchaseState.REFUND_PENDING, PurchaseState.NEEDS_REVIEW, PurchaseState.PAID):
        raise InvalidTransition(
            f"Purchase {purchase.reference} is {purchase.get_state_display().lower()}: nothing to refund."
        )
    payment = Payment.objects.get(purchase=purchase)
    with transaction.atomic():
        refund = Refund.objects.create(
            purchase=purchase,
            payment=payment,
            method=Refund.Method.MANUAL,
            amount=amount or payment.amount_confirmed or purchase.amount,
            currency=purchase.currency,
            requested_by=actor,
            message=reason[:255],
        )
        audit_record(
            action="refund.recorded_by_staff",
            obj=purchase,
            actor=actor,
            reason=reason[:255],
            data={"refund_id": refund.pk, "receipt": receipt},
        )
        return refund_complete(refund=refund, receipt=receipt, actor=actor)


def refund_record_provider(*, purchase: Purchase, method_message: str, receipt: str = "") -> Refund:
    """A refund the provider's API completed at once (WaafiPay cancel or reversal, the sandbox): kept on record."""
    payment = Payment.objects.get(purchase=purchase)
    return Refund.objects.create(
        purchase=purchase,
        payment=payment,
        method=Refund.Method.PROVIDER_API,
        state=Refund.State.COMPLETED,
        amount=payment.amount_confirmed or purchase.amount,
        currency=purchase.currency,
        receipt=receipt[:64],
        message=method_message[:255],
        completed_at=timezone.now(),
    )
