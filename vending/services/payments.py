"""Money in: push the prompt, take callbacks and query answers, confirm, fail, capture, release.

Every outcome lands in one of three functions: `payment_confirm`, `payment_fail`, `payment_flag_review`.
They lock the rows and no-op on a repeat; a confirmation vends in its own transaction and the SMS
goes out after the commit (`payment_confirm`, `sms_send`). A provider's
answer is never trusted on its own when in doubt (docs/PROTOCOLS.md §3.7): amount mismatch → review, never
vended; unknown sender IP, missing amount or a different phone → query the provider first.
"""

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vending import pipeline
from vending.models import Payment, ProviderCallback, Purchase
from vending.payments import (
    CallbackEvent,
    FailureReason,
    InitiateResult,
    InvalidCallback,
    Outcome,
    PaymentProvider,
    PaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
    StatusResult,
)
from vending.payments.registry import DARAJA
from vending.services.audit import audit_record
from vending.services.compiled_reads import CompiledRead
from vending.services.plain_writes import rows_update
from vending.services.providers import provider_named
from vending.services.refunds import refund_record_provider, reversal_try
from vending.services.sandbox_hooks import callbacks_to_schedule
from vending.services.sms import customer_notice_send
from vending.services.transitions import transition
from vending.services.vend import purchase_vend_locked
from vending.states import PaymentState, PurchaseState
from vending.texts import failure_text_key
from vending.wallets import wallet_name

log = logging.getLogger(__name__)

_P = PaymentState
_OPEN = frozenset({_P.INITIATED, _P.PENDING, _P.UNKNOWN})

# The reads on every callback and confirmation, each the ORM's statement compiled once (compiled_reads).
# Payment and purchase rows locked together, in one query (the join is locked as a whole).
_PAYMENT_AND_PURCHASE_LOCKED = CompiledRead(
    Payment, lambda pk: Payment.objects.select_for_update().select_related("purchase").filter(pk=pk)
)
# A callback's payment: the first (by id) with the provider's reference, as `.first()` takes it.
_PAYMENT_BY_REFERENCE = CompiledRead(
    Payment,
    lambda provider, reference: (
        Payment.objects.select_related("purchase")
        .filter(provider=provider, provider_reference=reference)
        .order_by("pk")[:1]
    ),
)
_CALLBACK = CompiledRead(ProviderCallback, lambda pk: ProviderCallback.objects.filter(pk=pk))


# -- providers ---------------------------------------------------------------------------------------


def daraja_callback_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/daraja/{settings.WEBHOOK_SECRET}/"


def payment_request_for(purchase: Purchase) -> PaymentRequest:
    return PaymentRequest(
        reference=purchase.reference,
        amount=purchase.amount,
        currency=purchase.currency,
        phone=purchase.payer_phone,
        wallet=purchase.wallet,
        description="Token",
        callback_url=daraja_callback_url(),
    )


# -- initiation --------------------------------------------------------------------------------------


def payment_initiate(*, purchase_id: int) -> Payment:
    """Ask the provider to prompt the payer. Blocking for WaafiPay (the task runs on the payments queue).

    ProviderUnavailable propagates so the task retries; nothing happened at the provider.
    """
    purchase = Purchase.objects.select_related("payment").get(pk=purchase_id)
    payment = purchase.payment
    # Claim the push: only the worker whose update took it sends one. A second message for the same
    # purchase (the outbox sweep, a duplicate) finds it claimed, or the payment past INITIATED, and stops.
    claimed = Payment.objects.filter(pk=payment.pk, state=_P.INITIATED, push_started_at__isnull=True).update(
        push_started_at=timezone.now()
    )
    if not claimed:
        return payment
    provider = provider_named(payment.provider)
    try:
        result = provider.initiate(payment_request_for(purchase))
    except ProviderUnavailable:
        # Never sent: release the claim so the retry (or the outbox sweep) can push.
        Payment.objects.filter(pk=payment.pk).update(push_started_at=None)
        raise
    except ProviderRejected as exc:
        log.error("payment %s: provider refused the request: %s", purchase.reference, exc)
        return payment_fail(payment=payment, reason=FailureReason.PROVIDER_ERROR, message=str(exc)[:255])
    return _apply_initiate(payment=payment, provider=provider, result=result)


def _apply_initiate(*, payment: Payment, provider: PaymentProvider, result: InitiateResult) -> Payment:
    if result.outcome == Outcome.APPROVED:
        return payment_confirm(
            payment=payment,
            amount=result.amount,
            receipt=result.receipt,
            provider_reference=result.provider_reference,
            source="initiate",
        )
    if result.outcome == Outcome.DECLINED:
        return payment_fail(
            payment=payment, reason=result.failure_reason or FailureReason.UNKNOWN, message=result.provider_message
        )
    with transaction.atomic():
        target = _P.PENDING if result.outcome == Outcome.PENDING else _P.UNKNOWN
        payment, _ = transition(
            payment,
            target,
            reason=f"initiate: {result.outcome}",
            fields={"provider_reference": result.provider_reference, "provider_message": result.provider_message[:255]},
        )
        purchase, _ = transition(payment.purchase, PurchaseState.PAYMENT_PENDING, reason="prompt sent")
        callbacks = result.simulated_callbacks
        if callbacks and settings.DEMO_MODE:  # the simulator page may answer this prompt itself (demo/)
            callbacks = callbacks_to_schedule(provider=provider.name, payment=payment, callbacks=callbacks)
        for callback in callbacks:  # the sandbox answering later, as a provider would (lost: the query sweep)
            pipeline.record(
                pipeline.Work.SANDBOX_CALLBACK,
                provider.name,
                callback.body.decode(),
                dict(callback.headers),
                countdown=callback.delay_seconds,
            )
        if target == _P.UNKNOWN:
            # A timeout is not a failure (docs/PROTOCOLS.md §4.4): tell the customer, then ask the provider (the
            # UNKNOWN payment is the query to do: lost, the pending-payment sweep asks).
            customer_notice_send(purchase=purchase, key="pipeline.unknown")
            pipeline.record(pipeline.Work.QUERY, payment.pk, countdown=settings.PAYMENT_QUERY_DELAY_SECONDS)
    return payment


# -- outcomes ----------------------------------------------------------------------------------------


def payment_confirm(
    *,
    payment: Payment,
    amount: Decimal | None,
    receipt: str = "",
    provider_reference: str = "",
    source: str,
    now: datetime | None = None,
) -> Payment:
    """The money is there (or held). Checks the amount, moves payment and purchase, and vends at once.

    The vend (TID, token, token SMS rows) happens in this same transaction: one commit for the whole
    purchase, so a crash leaves either nothing or everything, and a redelivered task simply finds the
    payment confirmed. The SMS goes out after the commit (`sms_send`).
    """
    # No savepoint when called inside a transaction (a callback's): nothing here is rolled back on its
    # own except through the inner savepoints below; any other error undoes the caller's work as well.
    with transaction.atomic(savepoint=False):
        payment = _PAYMENT_AND_PURCHASE_LOCKED.get(payment.pk)
        if payment.state in (_P.CONFIRMED, _P.HELD, _P.NEEDS_REVIEW, _P.CANCELLED, _P.REFUNDED):
            return payment  # a duplicate or a late answer: the first outcome stands
        if amount is not None and amount != payment.amount_requested:
            return payment_flag_review(
                payment=payment,
                reason=f"amount mismatch ({source}): asked {payment.amount_requested}, provider says {amount}",
            )
        holds = provider_named(payment.provider).capabilities.holds_funds
        fields: dict[str, object] = {"amount_confirmed": amount if amount is not None else payment.amount_requested}
        if receipt:
            fields["receipt"] = receipt[:64]
        if provider_reference:
            fields["provider_reference"] = provider_reference[:64]
        purchase = payment.purchase
        try:
            with transaction.atomic():
                payment, _ = transition(
                    payment,
                    _P.HELD if holds else _P.CONFIRMED,
                    reason=f"confirmed by {source}",
                    fields=fields,
                    locked=True,
                )
        except IntegrityError:
            # Another payment already carries this receipt or reference: a replay onto the wrong row.
            return payment_flag_review(payment=payment, reason=f"receipt or reference already used ({source})")
        purchase, _ = transition(purchase, PurchaseState.PAID, reason=f"paid ({source})", locked=True)
        if purchase.state == PurchaseState.PAID:  # just paid, or paid before and not vended (a late check)
            purchase_vend_locked(payment=payment, purchase=purchase, now=now or timezone.now())
    return payment


def payment_fail(*, payment: Payment, reason: str, message: str = "") -> Payment:
    """A final no from the provider: no money was taken. Tells the customer why."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.state not in _OPEN:
            return payment
        payment, _ = transition(
            payment,
            _P.FAILED,
            reason=f"failed: {reason}",
            fields={"failure_reason": str(reason)[:40], "provider_message": message[:255]},
        )
        purchase, changed = transition(
            payment.purchase,
            PurchaseState.PAYMENT_FAILED,
            reason=f"payment failed: {reason}",
            fields={"failure_reason": str(reason)[:40]},
        )
        if changed:
            customer_notice_send(
                purchase=purchase,
                key=failure_text_key(str(reason)),
                ussd=settings.USSD_SERVICE_CODES[0],
                wallet=wallet_name(purchase.wallet),
            )
    return payment


def payment_flag_review(*, payment: Payment, reason: str) -> Payment:
    """Put the payment (and its purchase) in the staff queue; nothing is vended from here."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.state == _P.NEEDS_REVIEW:
            return payment
        if payment.state == _P.INITIATED:
            payment, _ = transition(payment, _P.UNKNOWN, reason="no answer from the provider")
        payment, _ = transition(
            payment, _P.NEEDS_REVIEW, reason=reason[:255], fields={"flagged": True, "flag_reason": reason[:255]}
        )
        purchase = payment.purchase
        if purchase.state == PurchaseState.CREATED:
            purchase, _ = transition(purchase, PurchaseState.PAYMENT_PENDING, reason="no answer from the provider")
        purchase, changed = transition(purchase, PurchaseState.NEEDS_REVIEW, reason=reason[:255])
        log.warning("payment %s flagged for review: %s", purchase.reference, reason)
        if changed:
            customer_notice_send(purchase=purchase, key="pipeline.needs_review")
    return payment


# -- callbacks ---------------------------------------------------------------------------------------


def callback_store(
    *,
    provider: str,
    kind: str,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str | None = None,
) -> tuple[ProviderCallback, bool]:
    """Keep the raw callback before anything else; an identical repeat returns the first row."""
    digest = hashlib.sha256(b"\x00".join([provider.encode(), kind.encode(), body])).hexdigest()
    try:
        with transaction.atomic():
            return ProviderCallback.objects.get_or_create(
                dedupe_key=digest,
                defaults={
                    "provider": provider,
                    "kind": kind,
                    "headers": dict(headers),
                    "body": body.decode("utf-8", "replace"),
                    "source_ip": source_ip,
                },
            )
    except IntegrityError:  # two deliveries at once
        return ProviderCallback.objects.get(dedupe_key=digest), False


def _callback_processed(callback: ProviderCallback, payment: Payment) -> None:
    """Mark the callback applied to `payment`: one plain UPDATE (vending.services.plain_writes), on every vend."""
    rows_update(ProviderCallback, callback.pk, processed_at=timezone.now(), payment=payment)


def _flag_callback(callback: ProviderCallback, reason: str, payment: Payment | None = None) -> None:
    ProviderCallback.objects.filter(pk=callback.pk).update(
        flagged=True, flag_reason=reason[:255], processed_at=timezone.now(), payment=payment
    )
    log.warning("callback %s flagged: %s", callback.pk, reason)


def _doubt(callback: ProviderCallback, event: CallbackEvent, payment: Payment) -> str:
    """Why this approval needs a query before we vend on it ("" when it does not)."""
    allowlist = settings.DARAJA_CALLBACK_IP_ALLOWLIST if callback.provider == DARAJA else []
    if allowlist and callback.source_ip not in allowlist:
        return f"callback from unlisted address {callback.source_ip}"
    if event.amount is None:
        return "callback without an amount"
    if event.phone and event.phone != payment.purchase.payer_phone:
        return "callback phone differs from the payer"
    return ""


def callback_process(*, callback_id: int) -> None:
    """Apply a stored payment callback. Unmatched or conflicting callbacks change nothing and are flagged."""
    callback = _CALLBACK.get(callback_id)
    if callback.processed_at is not None:
        return
    try:
        provider = provider_named(callback.provider)
        event = provider.parse_callback(callback.headers, callback.body.encode())
    except (InvalidCallback, ProviderRejected) as exc:
        _flag_callback(callback, f"unreadable callback: {exc}")
        return
    found = _PAYMENT_BY_REFERENCE.rows(callback.provider, event.provider_reference)
    payment = found[0] if found else None
    if payment is None:
        _flag_callback(callback, "no payment with this provider reference")
        return
    if payment.state not in _OPEN:
        same = (
            event.outcome == Outcome.APPROVED
            and payment.state in (_P.CONFIRMED, _P.HELD)
            and (not event.receipt or event.receipt == payment.receipt)
        )
        if same:
            _callback_processed(callback, payment)
        else:
            _flag_callback(callback, f"callback for a payment already {payment.state}", payment)
        return
    if event.outcome == Outcome.APPROVED:
        if event.amount is not None and event.amount != payment.amount_requested:
            _flag_callback(callback, f"amount {event.amount} differs from {payment.amount_requested}", payment)
            payment_flag_review(
                payment=payment, reason=f"callback amount {event.amount}, asked {payment.amount_requested}"
            )
            return
        doubt = _doubt(callback, event, payment)
        if doubt:
            ProviderCallback.objects.filter(pk=callback.pk).update(
                flagged=True, flag_reason=f"{doubt}: confirmed by query", payment=payment
            )
            payment_query(payment_id=payment.pk)
        else:
            with transaction.atomic():  # confirmation, vend and this callback's mark: one commit
                payment_confirm(payment=payment, amount=event.amount, receipt=event.receipt, source="callback")
                _callback_processed(callback, payment)
            return
    elif event.outcome == Outcome.DECLINED:
        payment_fail(
            payment=payment, reason=event.failure_reason or FailureReason.UNKNOWN, message=event.provider_message
        )
    _callback_processed(callback, payment)


# -- queries, capture, release --------------------------------------------------------------------------


def payment_query(*, payment_id: int, now: datetime | None = None) -> Payment:
    """Ask the provider how an open payment ended; give up to staff after SWEEP_GIVE_UP_AFTER_SECONDS."""
    now = now or timezone.now()
    payment = Payment.objects.select_related("purchase").get(pk=payment_id)
    if payment.state not in _OPEN:
        return payment
    provider = provider_named(payment.provider)
    capabilities = provider.capabilities
    queryable = capabilities.supports_query and (payment.provider_reference or capabilities.queries_without_reference)
    result: StatusResult | None = None
    if queryable:
        Payment.objects.filter(pk=payment.pk).update(query_count=F("query_count") + 1)
        try:
            result = provider.query_status(payment.provider_reference, payment_request_for(payment.purchase))
        except ProviderUnavailable as exc:
            log.info("payment %s: query failed for now: %s", payment.purchase.reference, exc)
        except ProviderRejected as exc:
            return payment_flag_review(payment=payment, reason=f"query refused: {exc}")
    if result is not None and result.outcome == Outcome.APPROVED:
        return payment_confirm(
            payment=payment,
            amount=result.amount,
            receipt=result.receipt,
            provider_reference=result.provider_reference,
            source="query",
        )
    if result is not None and result.outcome == Outcome.DECLINED:
        return payment_fail(
            payment=payment, reason=result.failure_reason or FailureReason.UNKNOWN, message=result.provider_message
        )
    if now - payment.created_at > timedelta(seconds=settings.SWEEP_GIVE_UP_AFTER_SECONDS):
        return payment_flag_review(payment=payment, reason="no final answer from the provider in time")
    return payment


def payment_capture(*, payment_id: int) -> Payment:
    """Commit a WaafiPay hold after the token was issued. OutcomeUnknown/ProviderUnavailable propagate (retry)."""
    payment = Payment.objects.select_related("purchase").get(pk=payment_id)
    if payment.state != _P.HELD:
        return payment
    provider = provider_named(payment.provider)
    result = provider.commit(payment.provider_reference, payment_request_for(payment.purchase))
    with transaction.atomic():
        if not result.ok:
            Payment.objects.filter(pk=payment.pk).update(
                flagged=True, flag_reason=f"commit refused: {result.provider_message}"[:255]
            )
            audit_record(
                action="payment.commit_refused",
                obj=payment,
                purchase=payment.purchase,
                reason=result.provider_message[:255],
            )
            return payment
        payment, _ = transition(
            payment, _P.CONFIRMED, reason="hold committed", fields={"provider_message": result.provider_message[:255]}
        )
    return payment


def _failure_code(reason: str) -> str:
    return "vend_failed" if reason.startswith("vend failed") else "refunded_by_staff"


def purchase_refund(*, purchase: Purchase, reason: str, actor=None) -> Purchase:
    """Give the money back after a final vend failure: release a hold, refund where the API allows it,
    otherwise hand the refund to staff. The customer is told which."""
    payment = Payment.objects.get(purchase=purchase)
    provider = provider_named(payment.provider)
    request = payment_request_for(purchase)
    with transaction.atomic():
        # The purchase says why it failed (the vend, or staff), not only the audit trail.
        purchase, changed = transition(
            purchase,
            PurchaseState.REFUND_PENDING,
            actor=actor,
            reason=reason[:255],
            fields={"failure_reason": _failure_code(reason)},
        )
    if payment.state == _P.HELD:
        result = provider.cancel(payment.provider_reference, request)  # OutcomeUnknown propagates: retry
        if result.ok:
            with transaction.atomic():
                transition(payment, _P.CANCELLED, actor=actor, reason="hold released")
                purchase, changed = transition(purchase, PurchaseState.REFUNDED, actor=actor, reason="hold released")
                if changed:
                    refund_record_provider(
                        purchase=purchase, method_message="hold released", receipt=result.provider_reference
                    )
                    customer_notice_send(purchase=purchase, key="pipeline.vend_failed_hold")
            return purchase
    elif payment.state == _P.CONFIRMED and provider.capabilities.supports_refund:
        result = provider.refund(payment.provider_reference, request)
        if result.ok:
            with transaction.atomic():
                transition(payment, _P.REFUNDED, actor=actor, reason="refunded")
                purchase, changed = transition(purchase, PurchaseState.REFUNDED, actor=actor, reason="refunded")
                if changed:
                    refund_record_provider(
                        purchase=purchase,
                        method_message=result.provider_message or "refunded",
                        receipt=result.provider_reference,
                    )
                    customer_notice_send(
                        purchase=purchase,
                        key="pipeline.refunded",
                        currency=purchase.currency,
                        amount=f"{purchase.amount:.2f}",
                    )
            return purchase
    # M-Pesa (no refund API here) or a refused cancel/refund: staff refund it by hand.
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(flagged=True, flag_reason=f"refund by staff: {reason}"[:255])
        audit_record(action="purchase.refund_by_staff", obj=purchase, actor=actor, reason=reason[:255])
        if changed:
            customer_notice_send(purchase=purchase, key="pipeline.vend_failed_refund")
    reversal_try(purchase=purchase, actor=actor, reason=reason)  # M-Pesa: a Transaction Reversal if configured
    return purchase
