"""The one module that turns committed work into Celery messages (docs/DESIGN.md rule 12: work is a row first).

Services change state and call `record(work, id)`; nothing else in the codebase enqueues a pipeline task.
Every unit of work is already a row or a state in the caller's transaction:

    work              the row that says it is to do              the task
    PUSH              Payment INITIATED, push_started_at empty    payment_initiate_task
    CALLBACK          ProviderCallback (stk) processed_at empty   callback_process_task
    DELIVERY_REPORT   ProviderCallback (dlr) processed_at empty   delivery_report_process_task
    REVERSAL_RESULT   ProviderCallback (reversal_*) not processed reversal_result_process_task
    INBOUND_SMS       inbound SmsMessage RECEIVED                 sms_inbound_process_task
    SMS               outbound SmsMessage QUEUED, not claimed     sms_deliver_task
    VEND              Purchase PAID                               token_issue_task
    QUERY, CAPTURE, REFUND: Payment UNKNOWN / HELD, Purchase PAID

The first six are swept by `vending.sweeps.sweep_outbox`; VEND, QUERY, CAPTURE and REFUND by the older
sweeps of vending.sweeps (paid-not-vended, pending payments, stuck), which push the same rows forward.

`record` enqueues once the transaction commits (the fast path). If the broker is down the message is
simply not sent (logged); `vending.sweeps.sweep_outbox` finds the row still not done after
OUTBOX_REDISPATCH_AFTER_SECONDS and dispatches it again. Every task is idempotent on its row (it locks or
claims it and returns when it is done), so a message sent twice, or redelivered, is a no-op.

Inside a pipeline task (`worker_task()`), an SMS row committed by the task is sent right there after the
commit instead of by a second task: one task per purchase on the hot path (docs/BENCHMARKS.md, issue 4).
That choice is made here, not in the services.

This module is the floor of the pipeline: it imports no service, so every service may record work. What runs
a task's body and flags a row that failed for good (`vending.tasks`, through `vending.services.outbox`) sits
above the services it calls.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


class Work(StrEnum):
    PUSH = "push"
    CALLBACK = "callback"
    DELIVERY_REPORT = "delivery_report"
    INBOUND_SMS = "inbound_sms"
    SMS = "sms"
    VEND = "vend"
    QUERY = "query"
    CAPTURE = "capture"
    REFUND = "refund"
    REVERSAL_RESULT = "reversal_result"  # a stored Daraja reversal result or queue timeout
    SANDBOX_CALLBACK = "sandbox_callback"  # the sandbox provider calling us back (stands in for a provider)


# Dotted paths, imported when first used: vending must not import the USSD app (or its own tasks) at load.
_TASKS: dict[Work, str] = {
    Work.PUSH: "vending.tasks:payment_initiate_task",
    Work.CALLBACK: "vending.tasks:callback_process_task",
    Work.DELIVERY_REPORT: "vending.tasks:delivery_report_process_task",
    Work.INBOUND_SMS: "ussd.tasks:sms_inbound_process_task",
    Work.SMS: "vending.tasks:sms_deliver_task",
    Work.VEND: "vending.tasks:token_issue_task",
    Work.QUERY: "vending.tasks:payment_query_task",
    Work.CAPTURE: "vending.tasks:payment_capture_task",
    Work.REFUND: "vending.tasks:refund_task",
    Work.REVERSAL_RESULT: "vending.tasks:reversal_result_process_task",
    Work.SANDBOX_CALLBACK: "vending.tasks:sandbox_callback_task",
}

_in_worker_task: contextvars.ContextVar[bool] = contextvars.ContextVar("koronto_pipeline_task", default=False)


def _task(work: Work) -> Any:
    module, name = _TASKS[work].split(":")
    return getattr(importlib.import_module(module), name)


@contextmanager
def worker_task() -> Iterator[None]:
    """Wraps the body of a pipeline task: SMS rows it commits are sent in this task, after the commit."""
    reset = _in_worker_task.set(True)
    try:
        yield
    finally:
        _in_worker_task.reset(reset)


def record(work: Work, *args: Any, countdown: float = 0) -> None:
    """Dispatch `work` (its task's JSON arguments: the row id first) once the transaction commits."""
    transaction.on_commit(lambda: dispatch(work, *args, countdown=countdown))


def record_sms(rows: Sequence[Any], *, deliver: Callable[..., Any]) -> None:
    """Send these outbound SmsMessage rows once committed: in this task when inside one (through `deliver`,
    the SMS service's own send, handed in so this module needs no arrow back into the services), else a
    task each."""
    committed = list(rows)
    transaction.on_commit(lambda: _sms_after_commit(committed, deliver))


def dispatch(work: Work, *args: Any, countdown: float = 0) -> bool:
    """Enqueue one unit of work now; False (logged, never raised) when the broker cannot take it.

    A message that cannot be sent is not lost: its row still says the work is to do, and the outbox
    sweep dispatches it again. Eager mode (tests, CELERY_TASK_ALWAYS_EAGER) runs the task here and lets
    its errors through.
    """
    task = _task(work)
    options: dict[str, Any] = {"countdown": countdown} if countdown > 0 else {}
    if task.app.conf.task_always_eager:
        task.apply_async(args=list(args), **options)
        return True
    try:
        task.apply_async(args=list(args), **options)
    except Exception as exc:  # kombu wraps broker failures in OperationalError; redis-py/amqp errors too
        log.warning(
            "pipeline: %s %s not enqueued (%s: %s); the outbox sweep will dispatch it",
            work,
            args[0] if args else "",
            type(exc).__name__,
            exc,
        )
        return False
    return True


def _sms_after_commit(rows: list[Any], deliver: Callable[..., Any]) -> None:
    if not _in_worker_task.get():
        for row in rows:
            dispatch(Work.SMS, row.pk)
        return
    for row in rows:
        try:
            deliver(sms_id=row.pk, row=row)  # the row as just committed: no need to read it again
        except Exception as exc:  # the gateway or the database, for now: the task retries with backoff
            log.warning("sms %s: send failed here (%s), handed to the retrying task", row.pk, type(exc).__name__)
            dispatch(Work.SMS, row.pk, countdown=2)
