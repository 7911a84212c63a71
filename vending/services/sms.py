"""Outbound SMS: store, send from a task, follow delivery reports; and the token SMS text.

`sms_send` only writes rows (a QUEUED row is the send to do) and hands their ids to `vending.pipeline`,
which has them sent once the transaction commits (in the same task when the commit is a task's). The
send claims its row first, so a second message for the same row never texts the customer twice.
A message longer than one SMS is split into parts of one SMS each (GSM-7: 160 characters, UCS-2: 70),
one row per part, each numbered so the customer reads them in order. Which gateway carries a row is the
sender layer's choice (vending.sms.routing); the row records the gateway, the route, the encoding, the
segments and every attempt (SmsAttempt).
"""

import logging
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from vending import i18n, pipeline
from vending import texts as _texts  # noqa: F401  (registers the pipeline catalogue)
from vending.models import ProviderCallback, Purchase, SmsAttempt, SmsMessage, Token
from vending.services.audit import audit_record
from vending.services.plain_writes import row_insert, rows_update
from vending.services.transitions import transition
from vending.sms import (
    REPORT_PARSERS,
    Attempt,
    AttemptOutcome,
    DeliveryReport,
    DeliveryStatus,
    InvalidDeliveryReport,
    SmsRejected,
    SmsUnavailable,
    encoding,
    get_sender,
    gsm7,
)
from vending.states import SMS_TRANSITIONS, PurchaseState, SmsState

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
    """`text` as single-SMS parts, numbered "(1/2) " when there is more than one.

    GSM-7 (160 characters a part) whenever transliteration can keep the text in it, else UCS-2 (70)."""
    prepared = encoding.prepare(text)
    clean, enc = prepared.text, prepared.encoding
    limit = encoding.single_limit(enc)
    if encoding.units(clean, enc) <= limit:
        return [clean]
    if enc == encoding.Encoding.GSM7:
        parts = gsm7.split(clean, limit - _PART_MARK)
    else:
        parts = encoding.split_ucs2(clean, limit - _PART_MARK)
    return [f"({i}/{len(parts)}) {part}" for i, part in enumerate(parts, 1)]


def sms_send(
    *, phone: str, text: str, purchase: Purchase | None = None, token_send: int | None = None
) -> list[SmsMessage]:
    """Queue `text` to `phone` (E.164); the rows are sent once the transaction commits. `token_send`: the
    rows are the purchase's token SMS, its `token_send`-th send (see token_sms_send)."""
    sender_name = get_sender(settings).name
    with transaction.atomic(savepoint=False):  # plain inserts: nothing to roll back partially
        rows = [
            SmsMessage(
                direction=SmsMessage.Direction.OUTBOUND,
                phone=phone,
                text=part,
                provider=sender_name,
                status=SmsState.QUEUED,
                purchase=purchase,
                encoding=encoding.encoding_of(part),
                segments=encoding.segments(part),
                token_send=token_send,
            )
            for part in sms_parts(text)
        ]
        for row in rows:  # one plain INSERT each, as create() writes it (vending.services.plain_writes)
            row_insert(row)
        pipeline.record_sms(rows, deliver=sms_deliver)
    return rows


def sms_deliver(*, sms_id: int, row: SmsMessage | None = None) -> SmsMessage:
    """Send one queued row through the configured sender. A row already past QUEUED, or claimed by
    another send, is left alone. `row` is the row as just committed (saves reading it again)."""
    return _deliver_row(row if row is not None else SmsMessage.objects.get(pk=sms_id))


def _deliver_row(sms: SmsMessage) -> SmsMessage:

    if sms.status != SmsState.QUEUED:
        return sms
    # The claim: one plain UPDATE (vending.services.plain_writes), as the filtered update() wrote it.
    mine = rows_update(
        SmsMessage, sms.pk, {"status": SmsState.QUEUED, "send_started_at": None}, send_started_at=timezone.now()
    )
    if not mine:
        return sms
    sender = get_sender(settings)
    try:
        # One call: the router (vending.sms.routing) picks the gateway and fails over along the route.
        result = sender.send(sms.phone, sms.text)
    except SmsUnavailable as exc:
        # The task retries with backoff: give the claim back, after auditing what was tried. (After a read
        # timeout the text may have gone out; the gateway's report then arrives for a row we sent again: the
        # customer may get two.)
        with transaction.atomic(savepoint=False):
            _record_attempts(sms, exc.attempts)
            SmsMessage.objects.filter(pk=sms.pk).update(send_started_at=None)
        raise
    except SmsRejected as exc:
        sms, _ = transition(sms, SmsState.FAILED, reason="rejected", fields={"failure_reason": str(exc)[:80]})
        return sms
    gateway = result.gateway or sender.name
    tried = result.attempts or (
        Attempt(
            route=f"*>{gateway}",
            gateway=gateway,
            provider_message_id=result.provider_message_id,
            outcome=AttemptOutcome.ACCEPTED if result.accepted else AttemptOutcome.REFUSED,
            detail=result.status[:200],
        ),
    )
    if not result.accepted and result.retryable:
        with transaction.atomic(savepoint=False):
            _record_attempts(sms, tried)
            SmsMessage.objects.filter(pk=sms.pk).update(attempts=sms.attempts + 1, send_started_at=None)
        raise SmsUnavailable(f"gateway refused for now: {result.status}")
    # The audit of the tries and the row's new state in one commit (one fsync per message on the hot path).
    with transaction.atomic(savepoint=False):
        _record_attempts(sms, tried)
        if not result.accepted:
            sms, _ = transition(sms, SmsState.FAILED, reason="refused", fields={"failure_reason": result.status[:80]})
            return sms
        fields = {
            "provider_message_id": result.provider_message_id,
            "attempts": sms.attempts + 1,
            "provider": gateway,
            "gateway": gateway,
            "route": result.route,
            "encoding": result.encoding or sms.encoding,
            "segments": encoding.segments(sms.text),
        }
        sms, _ = transition(sms, SmsState.SENT, reason="sent", fields=fields)
    if gateway == "console":
        # The console backend has no delivery reports: printing it is delivering it.
        sms_record_delivery(
            report=DeliveryReport(provider_message_id=result.provider_message_id, status=DeliveryStatus.SUCCESS)
        )
        sms.refresh_from_db()
    return sms


def _record_attempts(sms: SmsMessage, attempts: tuple[Attempt, ...]) -> None:
    SmsAttempt.objects.bulk_create(
        [
            SmsAttempt(
                sms=sms,
                route=a.route[:64],
                gateway=a.gateway,
                outcome=str(a.outcome),
                detail=a.detail[:200],
                provider_message_id=a.provider_message_id[:80],
            )
            for a in attempts
        ]
    )


def sms_record_delivery(*, report: DeliveryReport) -> SmsMessage | None:
    """Apply a delivery report; a report for an unknown message id changes nothing (returns None)."""
    with transaction.atomic():
        sms = (
            SmsMessage.objects.select_for_update()
            .filter(direction=SmsMessage.Direction.OUTBOUND, provider_message_id=report.provider_message_id)
            .first()
        )
        if sms is None:
            log.warning("delivery report for unknown message %s", report.provider_message_id)
            return None
        target = _REPORT_STATES[report.status]
        if target == sms.status or target not in _allowed(sms.status):
            return sms  # a repeat, or an interim report after a final one (docs/PROTOCOLS.md §2.3)
        fields = {"failure_reason": report.failure_reason[:80]} if report.failure_reason else {}
        sms, _ = transition(sms, target, reason="delivery report", fields=fields)
        if target == SmsState.DELIVERED and sms.purchase_id:
            _purchase_delivered_if_complete(sms.purchase_id)
    return sms


def _allowed(status: str) -> frozenset[str]:
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
    """The rows (every part) of the purchase's latest token SMS send."""
    rows = (
        SmsMessage.objects.filter(purchase=purchase, token_send__isnull=False)
        .order_by("-token_send", "pk")
        .values_list("pk", "token_send")
    )
    latest = None
    ids = []
    for pk, send in rows:
        if latest is not None and send != latest:
            break
        latest = send
        ids.append(pk)
    return ids


def token_sms_count(purchase: Purchase) -> int:
    """How many times the purchase's token SMS was sent (the first send and every resend)."""
    return SmsMessage.objects.filter(purchase=purchase).aggregate(n=Max("token_send"))["n"] or 0


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
        "token": credit.grouped,
        "kwh": f"{credit.units:.1f}",
        "currency": purchase.currency,
        "amount": _money(purchase.amount),
        "drn": purchase.meter.drn,
        "ref": purchase.reference,
    }
    if keys:
        key_lines = "\n".join(f"{i}) {t.grouped}" for i, t in enumerate(keys, 1))
        return i18n.render("pipeline.token_with_keys", lang, count=len(keys), key_tokens=key_lines, **values)
    return i18n.render("pipeline.token", lang, breakdown=_breakdown(purchase.quote or {}, lang), **values)


def token_sms_send(
    *, purchase: Purchase, phone: str | None = None, tokens: list[Token] | None = None
) -> list[SmsMessage]:
    """Send (or send again) the purchase's token SMS; its rows carry the number of this send (token_send).

    `tokens`: the vend has just issued them, so this is the first send (no query for either)."""
    if tokens is None:
        tokens = list(purchase.tokens.all())
        send = token_sms_count(purchase) + 1
    else:
        send = 1
    with transaction.atomic(savepoint=False):
        rows = sms_send(
            phone=phone or purchase.payer_phone,
            text=token_sms_text(purchase=purchase, tokens=tokens),
            purchase=purchase,
            token_send=send,
        )
        audit_record(action=TOKEN_SMS_ACTION, obj=purchase, data={"sms_ids": [r.pk for r in rows], "send": send})
    return rows


def customer_notice_send(*, purchase: Purchase, key: str, **values: object) -> list[SmsMessage]:
    """One pipeline message (failure, delay, review…) to the buyer, in the purchase's language."""
    text = i18n.render(key, purchase.language, ref=purchase.reference, **values)
    return sms_send(phone=purchase.payer_phone, text=text, purchase=purchase)


def delivery_report_process(*, callback_id: int) -> None:
    """Apply a stored delivery report (form-encoded, read by its gateway's parser); an unreadable one is flagged."""
    callback = ProviderCallback.objects.get(pk=callback_id)
    if callback.processed_at is not None:
        return
    form = dict(parse_qsl(callback.body, keep_blank_values=True))
    try:
        parse = REPORT_PARSERS.get(callback.provider)
        if parse is None:
            raise InvalidDeliveryReport(f"no delivery-report reader for {callback.provider!r}")
        report = parse(form)
    except InvalidDeliveryReport as exc:
        ProviderCallback.objects.filter(pk=callback.pk).update(
            flagged=True, flag_reason=str(exc)[:255], processed_at=timezone.now()
        )
        return
    if sms_record_delivery(report=report) is None:
        # A report can overtake the commit of our own send (the gateway answers, then reports, faster
        # than the sending worker records the message id): keep it unprocessed, so the outbox sweep
        # applies it again, until it is older than the matching window.
        window = timedelta(seconds=settings.DELIVERY_REPORT_MATCH_WINDOW_SECONDS)
        if timezone.now() - callback.received_at < window:
            return
        ProviderCallback.objects.filter(pk=callback.pk).update(flagged=True, flag_reason="unknown message id")
    ProviderCallback.objects.filter(pk=callback.pk).update(processed_at=timezone.now())
