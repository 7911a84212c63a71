"""Reconciliation sweeps run by Celery beat (docs/DESIGN.md rule 7, docs/PROTOCOLS.md §6 rule 7).

Each sweep picks a small batch of rows stuck in a middle state and pushes them forward through the same
services as the live path, so overlapping sweeps and live tasks are harmless (every service locks and
no-ops on a repeat). Rows are picked with `skip_locked` (`_claim`): a row a live task holds locked is left
for the next run, not waited for. The pick does not reserve a row: two runs that overlap can both push the same
row forward, and the second push is a no-op for the same reason; the token-SMS resend, which would text twice,
decides and sends under its purchase's lock.
Every sweep takes `now`, so tests move time instead of waiting for it. Sweeps enqueue nothing themselves:
they call the same services, or hand the work to `vending.pipeline`.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from vending import pipeline
from vending.models import AuditEvent, Payment, Purchase, SmsMessage
from vending.services.audit import audit_record
from vending.services.outbox import pending_work
from vending.services.payments import payment_query, purchase_refund
from vending.services.sms import latest_token_sms_ids, token_sms_count, token_sms_send
from vending.states import PaymentState, PurchaseState, SmsState

log = logging.getLogger(__name__)


def _claim(queryset, limit: int) -> list[int]:
    """The ids of up to `limit` rows of `queryset` that no transaction holds locked right now.

    The lock lasts only for this read: it keeps a sweep from waiting behind a row a live task is working on,
    but it is gone before the caller acts on the rows, so it does not stop an overlapping sweep from taking
    the same rows. That is safe where the work no-ops on a repeat (the services lock their row again); holding
    this lock across the work instead would keep a transaction open over provider calls. The token-SMS resend,
    which is not one, locks its purchase again for the decision and the send.
    """
    with transaction.atomic():
        return list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])


def sweep_pending_payments(*, now: datetime | None = None) -> int:
    """Open payments older than SWEEP_PENDING_PAYMENT_AFTER_SECONDS → status query, with doubling gaps."""
    now = now or timezone.now()
    first_after = timedelta(seconds=settings.SWEEP_PENDING_PAYMENT_AFTER_SECONDS)
    # A WaafiPay push blocks for up to its timeout while still INITIATED: leave those alone until then.
    initiated_after = first_after + timedelta(seconds=settings.WAAFIPAY_TIMEOUT_SECONDS)
    rows = Payment.objects.filter(
        Q(state__in=[PaymentState.PENDING, PaymentState.UNKNOWN], created_at__lt=now - first_after)
        # INITIATED and claimed: the push started and its worker was lost (outcome unknown, so a query).
        # INITIATED and never claimed is a push still to do: the outbox sweep dispatches it.
        | Q(state=PaymentState.INITIATED, push_started_at__isnull=False, created_at__lt=now - initiated_after)
    ).order_by("created_at")
    done = 0
    for payment_id in _claim(rows, settings.SWEEP_BATCH_SIZE):
        payment = Payment.objects.get(pk=payment_id)
        # Backoff: query at 1, 2, 4, 8… times the first delay (spike arrest, docs/PROTOCOLS.md §3.6).
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
    now = now or timezone.now()
    rows = Purchase.objects.filter(
        state=PurchaseState.PAID, updated_at__lt=now - timedelta(seconds=settings.SWEEP_VEND_AFTER_SECONDS)
    ).order_by("updated_at")
    ids = _claim(rows, settings.SWEEP_BATCH_SIZE)
    for purchase_id in ids:
        pipeline.dispatch(pipeline.Work.VEND, purchase_id)
    return len(ids)


def sweep_undelivered_sms(*, now: datetime | None = None) -> int:
    """Resend a VENDED purchase's token SMS only when the gateway reported it failed (after
    SWEEP_SMS_RESEND_AFTER_SECONDS), or when no delivery report came for SMS_RESEND_SILENT_AFTER_SECONDS
    (hours: a report can be late, and a second text of the same token is worse than a late first one).
    At most SWEEP_SMS_MAX_SENDS sends per purchase; every resend is audited with its reason."""
    now = now or timezone.now()
    failure_wait = timedelta(seconds=settings.SWEEP_SMS_RESEND_AFTER_SECONDS)
    silent_wait = timedelta(seconds=settings.SMS_RESEND_SILENT_AFTER_SECONDS)
    failed_sms = SmsMessage.objects.filter(
        purchase=OuterRef("pk"),
        direction=SmsMessage.Direction.OUTBOUND,
        status__in=(SmsState.FAILED, SmsState.REJECTED),
    )
    rows = Purchase.objects.filter(
        Q(Exists(failed_sms), updated_at__lt=now - failure_wait) | Q(updated_at__lt=now - silent_wait),
        state=PurchaseState.VENDED,
    ).order_by("updated_at")
    resent = 0
    for purchase_id in _claim(rows, settings.SWEEP_BATCH_SIZE):
        # Decided and sent under the purchase's lock: a second text of a token is not a no-op, so an
        # overlapping run skips the row while this one holds it and, once this one committed, finds the new
        # send still in flight. The send itself leaves after the commit (vending.pipeline).
        with transaction.atomic():
            purchase = Purchase.objects.select_for_update(skip_locked=True).filter(pk=purchase_id).first()
            if purchase is None:
                continue  # another run has it now
            parts = list(SmsMessage.objects.filter(pk__in=latest_token_sms_ids(purchase)))
            failed = any(p.status in (SmsState.FAILED, SmsState.REJECTED) for p in parts)
            silent = all(p.created_at < now - silent_wait for p in parts)
            if failed:
                reason = "the gateway reported the token SMS failed"
            elif silent:
                reason = f"no delivery report after {settings.SMS_RESEND_SILENT_AFTER_SECONDS // 3600} h"
            else:
                continue  # the latest send is still in flight: wait for its report
            if token_sms_count(purchase) >= settings.SWEEP_SMS_MAX_SENDS:
                if not AuditEvent.objects.filter(purchase=purchase, action="purchase.sms_gave_up").exists():
                    audit_record(
                        action="purchase.sms_gave_up",
                        obj=purchase,
                        reason="token SMS not delivered after the maximum number of sends",
                    )
                    log.warning("purchase %s: token SMS undelivered, left for staff", purchase.reference)
                continue
            token_sms_send(purchase=purchase)
            audit_record(
                action="purchase.token_sms_resent",
                obj=purchase,
                reason=reason,
                data={"previous_sms_ids": [p.pk for p in parts]},
            )
        resent += 1
    return resent


def sweep_outbox(*, now: datetime | None = None) -> int:
    """Dispatch again every unit of work still not done OUTBOX_REDISPATCH_AFTER_SECONDS after its commit
    (its message was lost: the broker was down, or restarted without it). Each task is idempotent on its
    row, so a message that was only slow costs a no-op."""
    now = now or timezone.now()
    work = pending_work(
        now=now, older_than=timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS), limit=settings.SWEEP_BATCH_SIZE
    )
    sent = sum(pipeline.dispatch(pipeline.Work(kind), pk) for kind, pk in work)
    if work:
        log.info("outbox: %d unit(s) of work dispatched again (%d enqueued)", len(work), sent)
    return len(work)


def sweep_stuck(*, now: datetime | None = None) -> int:
    """Give up to staff: holds left open after a vend are committed again; purchases paid for longer than
    SWEEP_GIVE_UP_AFTER_SECONDS without a token are refunded where the provider allows it, else flagged."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SWEEP_GIVE_UP_AFTER_SECONDS)
    acted = 0
    open_holds = Payment.objects.filter(
        state=PaymentState.HELD,
        purchase__state__in=[PurchaseState.VENDED, PurchaseState.DELIVERED],
        updated_at__lt=now - timedelta(seconds=settings.SWEEP_VEND_AFTER_SECONDS),
    )
    for payment_id in _claim(open_holds, settings.SWEEP_BATCH_SIZE):
        pipeline.dispatch(pipeline.Work.CAPTURE, payment_id)
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
