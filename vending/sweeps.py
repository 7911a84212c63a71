"""Reconciliation sweeps run by Celery beat (DESIGN rule 7, PROTOCOLS 6 rule 7).

Each sweep picks a small batch of rows stuck in a middle state and pushes them forward through the same
services as the live path, so overlapping sweeps and live tasks are harmless (every service locks and
no-ops on a repeat). Rows are claimed with `skip_locked`, so two beat runs do not queue the same work.
Every sweep takes `now`, so tests move time instead of waiting for it.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vending.models import AuditEvent, Payment, Purchase, SmsMessage
from vending.services.audit import audit_record
from vending.states import PaymentState, PurchaseState, SmsState

log = logging.getLogger(__name__)


def _claim(queryset, limit: int) -> list[int]:
    with transaction.atomic():
        return list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])


def sweep_pending_payments(*, now: datetime | None = None) -> int:
    """Open payments older than SWEEP_PENDING_PAYMENT_AFTER_SECONDS → status query, with doubling gaps."""
    from vending.services.payments import payment_query

    now = now or timezone.now()
    first_after = timedelta(seconds=settings.SWEEP_PENDING_PAYMENT_AFTER_SECONDS)
    # A WaafiPay push blocks for up to its timeout while still INITIATED: leave those alone until then.
    initiated_after = first_after + timedelta(seconds=settings.WAAFIPAY_TIMEOUT_SECONDS)
    rows = Payment.objects.filter(
        Q(state__in=[PaymentState.PENDING, PaymentState.UNKNOWN], created_at__lt=now - first_after)
        | Q(state=PaymentState.INITIATED, created_at__lt=now - initiated_after)
    ).order_by("created_at")
    done = 0
    for payment_id in _claim(rows, settings.SWEEP_BATCH_SIZE):
        payment = Payment.objects.get(pk=payment_id)
        # Backoff: query at 1, 2, 4, 8… times the first delay (spike arrest, PROTOCOLS 3.6).
        due = payment.created_at + first_after * (2 ** min(payment.query_count, 6))
        if now < due and now - payment.created_at < timedelta(seconds=settings.SWEEP_GIVE_UP_AFTER_SECONDS):
            continue
        try:
            payment_query(payment_id=payment_id, now=now)
            done += 1
        except Exception:  # one bad row must not stop the sweep
            log.exception("sweep: query of payment %s failed", payment_id)
    return done


def sweep_paid_not_vended(*, now: datetime | None = None) -> int:
    """PAID purchases not vended after SWEEP_VEND_AFTER_SECONDS → vend again (same purchase, same token)."""
    from vending.tasks import token_issue_task

    now = now or timezone.now()
    rows = Purchase.objects.filter(
        state=PurchaseState.PAID, updated_at__lt=now - timedelta(seconds=settings.SWEEP_VEND_AFTER_SECONDS)
    ).order_by("updated_at")
    ids = _claim(rows, settings.SWEEP_BATCH_SIZE)
    for purchase_id in ids:
        token_issue_task.delay(purchase_id)
    return len(ids)


def sweep_undelivered_sms(*, now: datetime | None = None) -> int:
    """VENDED purchases whose token SMS is not delivered → send it again, at most SWEEP_SMS_MAX_SENDS times."""
    from vending.services.sms import latest_token_sms_ids, token_sms_count, token_sms_send

    now = now or timezone.now()
    wait = timedelta(seconds=settings.SWEEP_SMS_RESEND_AFTER_SECONDS)
    rows = Purchase.objects.filter(state=PurchaseState.VENDED, updated_at__lt=now - wait).order_by("updated_at")
    resent = 0
    for purchase_id in _claim(rows, settings.SWEEP_BATCH_SIZE):
        purchase = Purchase.objects.get(pk=purchase_id)
        ids = latest_token_sms_ids(purchase)
        parts = list(SmsMessage.objects.filter(pk__in=ids))
        if parts:
            failed = any(p.status in (SmsState.FAILED, SmsState.REJECTED) for p in parts)
            silent = all(p.created_at < now - wait for p in parts)
            if not (failed or silent):
                continue
        if token_sms_count(purchase) >= settings.SWEEP_SMS_MAX_SENDS:
            if not AuditEvent.objects.filter(purchase=purchase, action="purchase.sms_gave_up").exists():
                audit_record(action="purchase.sms_gave_up", obj=purchase,
                             reason="token SMS not delivered after the maximum number of sends")
                log.warning("purchase %s: token SMS undelivered, left for staff", purchase.reference)
            continue
        token_sms_send(purchase=purchase)
        resent += 1
    return resent


def sweep_stuck(*, now: datetime | None = None) -> int:
    """Give up to staff: holds left open after a vend are committed again; purchases paid for longer than
    SWEEP_GIVE_UP_AFTER_SECONDS without a token are refunded where the provider allows it, else flagged."""
    from vending.services.payments import purchase_refund
    from vending.tasks import payment_capture_task

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SWEEP_GIVE_UP_AFTER_SECONDS)
    acted = 0
    open_holds = Payment.objects.filter(
        state=PaymentState.HELD, purchase__state__in=[PurchaseState.VENDED, PurchaseState.DELIVERED],
        updated_at__lt=now - timedelta(seconds=settings.SWEEP_VEND_AFTER_SECONDS))
    for payment_id in _claim(open_holds, settings.SWEEP_BATCH_SIZE):
        payment_capture_task.delay(payment_id)
        acted += 1
    stuck = Purchase.objects.filter(state=PurchaseState.PAID, updated_at__lt=cutoff).order_by("updated_at")
    for purchase_id in _claim(stuck, settings.SWEEP_BATCH_SIZE):
        purchase = Purchase.objects.select_related("payment").get(pk=purchase_id)
        try:
            purchase_refund(purchase=purchase, reason="paid but no token after the give-up time")
            acted += 1
        except Exception:
            log.exception("sweep: refund of purchase %s failed", purchase.reference)
    return acted
