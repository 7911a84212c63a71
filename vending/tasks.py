"""Celery tasks of the purchase pipeline: thin (load by id, call one service), JSON arguments.

Money and token tasks use acks_late (prefetch 1 is global): a worker killed mid-task leaves the message
unacknowledged and another worker redoes it, which is safe because every service locks its rows and
no-ops on a repeat (docs/DESIGN.md rules 4-6). Retries with backoff and jitter are for transient errors only.
The payment push runs on the "payments" queue because WaafiPay blocks while the payer types the PIN.

Nothing here is enqueued directly: `vending.pipeline` dispatches every task from a committed row and the
outbox sweep dispatches again what is not done (docs/DESIGN.md rule 12). A body that fails for good (not a
transient database or provider error) flags its row once (`_run`, `vending.services.outbox.flag_work`) instead
of retrying. This module is the top of the pipeline: it calls the services, which record their work in
`vending.pipeline` below them, never the other way round.

One task per purchase on the hot path: the task that applies the payment's outcome (callback, query,
push) also vends in the same transaction (`payment_confirm`) and sends the token SMS right after the
commit, in the same task. `token_issue_task` and `sms_deliver_task` are the fallbacks (sweeps, retries,
sends from web requests). A worker lost between that commit and the send leaves the row queued and
the purchase VENDED: the outbox sweep sends it (the send claims its row, so never twice).
"""

import logging
from collections.abc import Callable

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from vending import pipeline, sweeps
from vending.models import Payment, Purchase
from vending.payments import OutcomeUnknown, ProviderUnavailable
from vending.services import outbox, payments, refunds, vend
from vending.services import sms as sms_service
from vending.sms import SmsUnavailable

log = logging.getLogger(__name__)

_BACKOFF = {"retry_backoff": 2, "retry_backoff_max": 300, "retry_jitter": True}


@worker_ready.connect
@worker_process_init.connect
def _no_database_connection_across_fork(**kwargs: object) -> None:
    # SQLite keeps per-process file state: a pool child that inherits an open SQLite file from the worker's
    # main process fails with "disk I/O error". Close everything so each process opens its own.
    connections.close_all()


@task_prerun.connect
@task_postrun.connect
def _database_connections_like_a_request(task=None, **kwargs: object) -> None:
    # CELERY_DB_REUSE_MAX keeps Celery from closing the connection around every task; this closes it
    # when Django would at the end of a request: older than CONN_MAX_AGE, broken by an error, or (with
    # CONN_HEALTH_CHECKS) found unusable on first use. Eager tasks run inside the caller's transaction:
    # leave those alone.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


# Database errors worth a retry (a lost connection, a serialisation failure, a deadlock); anything else
# (DataError, IntegrityError, a bug) fails the same way every time: the row is flagged at once.
_TRANSIENT_DB: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def _run(
    work: pipeline.Work, pk: int, body: Callable[[], object], *, transient: tuple[type[Exception], ...] = ()
) -> None:
    """Run a task body for row `pk`: transient errors propagate (the task retries); any other error is
    permanent, so the row is flagged once (`outbox.flag_work`) and the message is acknowledged, not retried."""
    with pipeline.worker_task():
        try:
            body()
        except (*_TRANSIENT_DB, *transient):
            raise
        except Exception as exc:
            log.exception("pipeline: %s %s failed for good; flagged", work, pk)
            outbox.flag_work(work=str(work), pk=pk, reason=f"{type(exc).__name__}: {exc}")


@shared_task(
    bind=True,
    autoretry_for=(ProviderUnavailable,),
    max_retries=5,
    soft_time_limit=settings.WAAFIPAY_TIMEOUT_SECONDS + 30,
    time_limit=settings.WAAFIPAY_TIMEOUT_SECONDS + 60,
    **_BACKOFF,
)
def payment_initiate_task(self, purchase_id: int) -> None:
    # Not acks_late: a push must not be repeated by redelivery. The push claims its payment first
    # (`push_started_at`), so a second message for it sends nothing; a push lost with its worker stays
    # INITIATED and claimed, and the pending-payment sweep sends it to a query or to staff.

    def body() -> None:
        try:
            payments.payment_initiate(purchase_id=purchase_id)
        except ProviderUnavailable:
            if self.request.retries >= self.max_retries:
                payment = Payment.objects.get(purchase_id=purchase_id)
                payments.payment_fail(payment=payment, reason="provider_error", message="provider unavailable, gave up")
                return
            raise

    _run(pipeline.Work.PUSH, purchase_id, body, transient=(ProviderUnavailable, OutcomeUnknown))


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def callback_process_task(callback_id: int) -> None:
    _run(pipeline.Work.CALLBACK, callback_id, lambda: payments.callback_process(callback_id=callback_id))


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def sandbox_callback_task(provider: str, body: str, headers: dict[str, str]) -> None:
    """A sandbox callback, delivered late like a real one, through the same store-then-process path."""
    callback, _ = payments.callback_store(provider=provider, kind="stk_callback", headers=headers, body=body.encode())
    # Processed even when already stored: a redelivery after a crash mid-vend finds the row stored but
    # not processed (the vend rolled back). A processed row is a no-op.
    _run(pipeline.Work.CALLBACK, callback.pk, lambda: payments.callback_process(callback_id=callback.pk))


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def payment_query_task(payment_id: int) -> None:
    with pipeline.worker_task():
        payments.payment_query(payment_id=payment_id)


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def token_issue_task(purchase_id: int) -> None:
    """Vend a purchase still PAID (the sweep's and the retry's path; the same function as the callback's)."""
    _run(pipeline.Work.VEND, purchase_id, lambda: vend.purchase_vend(purchase_id=purchase_id))


@shared_task(
    acks_late=True, autoretry_for=(OutcomeUnknown, ProviderUnavailable, *_TRANSIENT_DB), max_retries=10, **_BACKOFF
)
def payment_capture_task(payment_id: int) -> None:
    with pipeline.worker_task():
        payments.payment_capture(payment_id=payment_id)


@shared_task(
    acks_late=True, autoretry_for=(OutcomeUnknown, ProviderUnavailable, *_TRANSIENT_DB), max_retries=10, **_BACKOFF
)
def refund_task(purchase_id: int, reason: str) -> None:
    with pipeline.worker_task():
        payments.purchase_refund(purchase=Purchase.objects.get(pk=purchase_id), reason=reason)


@shared_task(autoretry_for=(SmsUnavailable, *_TRANSIENT_DB), max_retries=6, **_BACKOFF)
def sms_deliver_task(sms_id: int) -> None:
    # Not acks_late: a redelivered send could text the customer twice. The send claims its row, so a
    # second message is a no-op; a message never sent is dispatched again by the outbox sweep.
    _run(pipeline.Work.SMS, sms_id, lambda: sms_service.sms_deliver(sms_id=sms_id), transient=(SmsUnavailable,))


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def delivery_report_process_task(callback_id: int) -> None:
    _run(
        pipeline.Work.DELIVERY_REPORT, callback_id, lambda: sms_service.delivery_report_process(callback_id=callback_id)
    )


@shared_task(acks_late=True, autoretry_for=_TRANSIENT_DB, max_retries=5, **_BACKOFF)
def reversal_result_process_task(callback_id: int) -> None:
    # Applying a stored result twice is harmless (the first result stands), so acks_late is safe.
    _run(pipeline.Work.REVERSAL_RESULT, callback_id, lambda: refunds.reversal_result_process(callback_id=callback_id))


# -- beat sweeps (vending.sweeps holds the logic) -------------------------------------------------------


@shared_task
def sweep_pending_payments_task() -> int:
    return sweeps.sweep_pending_payments()


@shared_task
def sweep_paid_not_vended_task() -> int:
    return sweeps.sweep_paid_not_vended()


@shared_task
def sweep_undelivered_sms_task() -> int:
    return sweeps.sweep_undelivered_sms()


@shared_task
def sweep_outbox_task() -> int:
    return sweeps.sweep_outbox()


@shared_task
def sweep_stuck_task() -> int:
    return sweeps.sweep_stuck()
