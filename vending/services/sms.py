"""Outbound SMS: store, send from a task, follow delivery reports; and the token SMS text.

`sms_send` only writes rows; the send happens in `sms_deliver` once the transaction commits. Inside a
Celery task (a vend, a callback) that is right after the commit, in the same task: no second task per
message. Elsewhere (a web request) it is `sms_deliver_task`; a send that fails for now is always handed
to that task, which retries with backoff. A message longer than one SMS is split into GSM-7 parts of at
most 160 characters, one row per part, each numbered so the customer reads them in order.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from vending import i18n
from vending import texts as _texts  # noqa: F401  (registers the pipeline catalogue)
from vending.models import AuditEvent, Purchase, SmsMessage, Token
from vending.services.audit import audit_record
from vending.services.transitions import transition
from vending.sms import DeliveryReport, DeliveryStatus, SmsRejected, get_sender, gsm7
from vending.states import PurchaseState, SmsState

log = logging.getLogger(__name__)

TOKEN_SMS_ACTION = "purchase.token_sms_sent"
_PART_MARK = len("(9/9) ")
_REPORT_STATES = {
    DeliveryStatus.SENT: SmsState.SENT,
    DeliveryStatus.SUBMITTED: SmsState.SUBMITTED,
    DeliveryStatus.BUFFERED: SmsState.BUFFERED,
    DeliveryStatus.SUCCESS: SmsState.DELIVERED,
    DeliveryStatus.REJECTED: SmsState.REJECTED,
    DeliveryStatus.FAILED: SmsState.FAILED,
}


def sms_parts(text: str) -> list[str]:
    """`text` as GSM-7 parts of at most 160 characters, numbered "(1/2) " when there is more than one."""
    clean = gsm7.transliterate(text)
    if gsm7.septets(clean) <= gsm7.SMS_SEPTETS:
        return [clean]
    parts = gsm7.split(clean, gsm7.SMS_SEPTETS - _PART_MARK)
    return [f"({i}/{len(parts)}) {part}" for i, part in enumerate(parts, 1)]


def sms_send(*, phone: str, text: str, purchase: Purchase | None = None) -> list[SmsMessage]:
    """Queue `text` to `phone` (E.164); the rows are sent once the transaction commits."""
    sender_name = get_sender(settings).name
    with transaction.atomic(savepoint=False):  # plain inserts: nothing to roll back partially
        rows = [
            SmsMessage.objects.create(
                direction=SmsMessage.Direction.OUTBOUND, phone=phone, text=part, provider=sender_name,
                status=SmsState.QUEUED, purchase=purchase,
            )
            for part in sms_parts(text)
        ]
        transaction.on_commit(lambda: _deliver_after_commit(rows))
    return rows


def _in_celery_task() -> bool:
    from celery import current_task

    return bool(current_task) and not current_task.request.called_directly


def _deliver_after_commit(rows: list[SmsMessage]) -> None:
    """Send the committed rows: here when running in a worker's task, else (or on a failure) from a task."""
    from vending.tasks import sms_deliver_task

    if not _in_celery_task():
        for row in rows:
            sms_deliver_task.delay(row.pk)
        return
    for row in rows:
        try:
            _deliver_row(row)  # the row as just committed by this task: no need to read it again
        except Exception as exc:  # the gateway or the database, for now: the task retries with backoff
            log.warning("sms %s: send failed here (%s), handed to the retrying task", row.pk, type(exc).__name__)
            sms_deliver_task.apply_async(args=[row.pk], countdown=2)


def sms_deliver(*, sms_id: int) -> SmsMessage:
    """Send one queued row through the configured sender. A row already past QUEUED is left alone."""
    return _deliver_row(SmsMessage.objects.get(pk=sms_id))


def _deliver_row(sms: SmsMessage) -> SmsMessage:
    if sms.status != SmsState.QUEUED:
        return sms
    sender = get_sender(settings)
    try:
        result = sender.send(sms.phone, sms.text)  # SmsUnavailable propagates: the task retries
    except SmsRejected as exc:
        sms, _ = transition(sms, SmsState.FAILED, reason="rejected", fields={"failure_reason": str(exc)[:80]})
        return sms
    if not result.accepted:
        if result.retryable:
            SmsMessage.objects.filter(pk=sms.pk).update(attempts=sms.attempts + 1)
            from vending.sms import SmsUnavailable

            raise SmsUnavailable(f"gateway refused for now: {result.status}")
        sms, _ = transition(sms, SmsState.FAILED, reason="refused", fields={"failure_reason": result.status[:80]})
        return sms
    fields = {"provider_message_id": result.provider_message_id, "attempts": sms.attempts + 1,
              "provider": sender.name}
    sms, _ = transition(sms, SmsState.SENT, reason="sent", fields=fields)
    if sender.name == "console":
        # The console backend has no delivery reports: printing it is delivering it.
        sms_record_delivery(report=DeliveryReport(provider_message_id=result.provider_message_id,
                                                  status=DeliveryStatus.SUCCESS))
        sms.refresh_from_db()
    return sms


def sms_record_delivery(*, report: DeliveryReport) -> SmsMessage | None:
    """Apply a delivery report; a report for an unknown message id changes nothing (returns None)."""
    with transaction.atomic():
        sms = (SmsMessage.objects.select_for_update()
               .filter(direction=SmsMessage.Direction.OUTBOUND, provider_message_id=report.provider_message_id)
               .first())
        if sms is None:
            log.warning("delivery report for unknown message %s", report.provider_message_id)
            return None
        target = _REPORT_STATES[report.status]
        if target == sms.status or target not in _allowed(sms.status):
            return sms  # a repeat, or an interim report after a final one (PROTOCOLS 2.3)
        fields = {"failure_reason": report.failure_reason[:80]} if report.failure_reason else {}
        sms, _ = transition(sms, target, reason="delivery report", fields=fields)
        if target == SmsState.DELIVERED and sms.purchase_id:
            _purchase_delivered_if_complete(sms.purchase_id)
    return sms


def _allowed(status: str) -> frozenset[str]:
    from vending.states import SMS_TRANSITIONS

    return SMS_TRANSITIONS.get(status, frozenset())


def _purchase_delivered_if_complete(purchase_id: int) -> None:
    """A purchase is delivered when every part of its latest token SMS is."""
    purchase = Purchase.objects.get(pk=purchase_id)
    if purchase.state != PurchaseState.VENDED:
        return
    ids = latest_token_sms_ids(purchase)
    if ids and not SmsMessage.objects.filter(pk__in=ids).exclude(status=SmsState.DELIVERED).exists():
        transition(purchase, PurchaseState.DELIVERED, reason="token SMS delivered")


def latest_token_sms_ids(purchase: Purchase) -> list[int]:
    event = (AuditEvent.objects.filter(purchase=purchase, action=TOKEN_SMS_ACTION)
             .order_by("-pk").values_list("data", flat=True).first())
    return list(event.get("sms_ids", [])) if event else []


def token_sms_count(purchase: Purchase) -> int:
    return AuditEvent.objects.filter(purchase=purchase, action=TOKEN_SMS_ACTION).count()


# -- the token SMS ---------------------------------------------------------------------------------


def _money(value: object) -> str:
    return f"{Decimal(str(value)):.2f}"


def _breakdown(quote: dict, lang: str) -> str:
    pieces = []
    for field, key in (("vat", "vat"), ("fixed_charge", "fixed"), ("debt_recovery", "debt")):
        value = quote.get(field)
        if value not in (None, "") and Decimal(str(value)) > 0:
            pieces.append(f"{i18n.render('pipeline.breakdown.' + key, lang)} {_money(value)}")
    return ("\n" + " ".join(pieces)) if pieces else ""


def token_sms_text(*, purchase: Purchase, tokens: list[Token]) -> str:
    """Token in groups of four, units, amount, breakdown and reference; key-change tokens first."""
    credit = next(t for t in tokens if t.kind == Token.Kind.CREDIT)
    keys = sorted((t for t in tokens if t.kind == Token.Kind.KEY_CHANGE), key=lambda t: t.sequence)
    lang = purchase.language
    values = {
        "token": credit.grouped, "kwh": f"{credit.units:.1f}", "currency": purchase.currency,
        "amount": _money(purchase.amount), "drn": purchase.meter.drn, "ref": purchase.reference,
    }
    if keys:
        key_lines = "\n".join(f"{i}) {t.grouped}" for i, t in enumerate(keys, 1))
        return i18n.render("pipeline.token_with_keys", lang, count=len(keys), key_tokens=key_lines, **values)
    return i18n.render("pipeline.token", lang, breakdown=_breakdown(purchase.quote or {}, lang), **values)


def token_sms_send(
    *, purchase: Purchase, phone: str | None = None, tokens: list[Token] | None = None
) -> list[SmsMessage]:
    """Send (or send again) the purchase's token SMS and remember which rows carry it.

    `tokens` saves a query when the caller has just issued them (the vend)."""
    if tokens is None:
        tokens = list(purchase.tokens.all())
    with transaction.atomic(savepoint=False):
        rows = sms_send(phone=phone or purchase.payer_phone, text=token_sms_text(purchase=purchase, tokens=tokens),
                        purchase=purchase)
        audit_record(action=TOKEN_SMS_ACTION, obj=purchase, data={"sms_ids": [r.pk for r in rows]})
    return rows


def customer_notice_send(*, purchase: Purchase, key: str, **values: object) -> list[SmsMessage]:
    """One pipeline message (failure, delay, review…) to the buyer, in the purchase's language."""
    text = i18n.render(key, purchase.language, ref=purchase.reference, **values)
    return sms_send(phone=purchase.payer_phone, text=text, purchase=purchase)


def delivery_report_process(*, callback_id: int) -> None:
    """Apply a stored Africa's Talking delivery report (form body); an unreadable one is flagged."""
    from urllib.parse import parse_qsl

    from django.utils import timezone

    from vending.models import ProviderCallback
    from vending.sms import InvalidDeliveryReport

    callback = ProviderCallback.objects.get(pk=callback_id)
    if callback.processed_at is not None:
        return
    form = dict(parse_qsl(callback.body, keep_blank_values=True))
    try:
        report = get_sender(settings).parse_delivery_report(form)
    except InvalidDeliveryReport as exc:
        ProviderCallback.objects.filter(pk=callback.pk).update(
            flagged=True, flag_reason=str(exc)[:255], processed_at=timezone.now())
        return
    if sms_record_delivery(report=report) is None:
        ProviderCallback.objects.filter(pk=callback.pk).update(flagged=True, flag_reason="unknown message id")
    ProviderCallback.objects.filter(pk=callback.pk).update(processed_at=timezone.now())
