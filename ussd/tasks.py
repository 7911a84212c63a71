"""Celery tasks of the USSD/SMS channel: thin (load by id, call one service), JSON arguments."""

import logging

from celery import shared_task
from django.db import DatabaseError

from vending import pipeline

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=5)
def sms_inbound_process_task(self, sms_id: int) -> None:
    """Answer one stored inbound SMS. Redelivery is safe: a processed row is never answered twice, and
    BUY's idempotency key is the AT message id."""
    from ussd.sms_commands import sms_inbound_give_up, sms_inbound_handle

    try:
        with pipeline.worker_task():  # the reply goes out from this task, after its commit
            sms_inbound_handle(sms_id=sms_id)
    except DatabaseError as exc:  # transient: try again with backoff, then give up below
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
        log.exception("inbound SMS %s: database still failing, giving up", sms_id)
        with pipeline.worker_task():
            sms_inbound_give_up(sms_id=sms_id)
    except Exception:
        # A bug must not leave the customer without an answer; the traceback goes to the logs
        # (our log filter masks token-shaped digits; the message text is never logged here).
        log.exception("inbound SMS %s: unexpected failure, answering with the generic apology", sms_id)
        with pipeline.worker_task():
            sms_inbound_give_up(sms_id=sms_id)
