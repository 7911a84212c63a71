"""Uploading a provider statement, comparing it with our payments, and resolving each mismatch."""

import hashlib
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backoffice import reconciliation as rec
from backoffice.models import ReconciliationLine, ReconciliationResolution, ReconciliationStatement
from backoffice.permissions import RECONCILE, REFUND_PURCHASE, allowed, require, require_reason
from backoffice.services.support import staff_purchase_refund
from vending.exceptions import VendingError
from vending.models import Payment
from vending.services.audit import audit_record
from vending.states import PaymentState

PROVIDERS = {"mpesa": ("daraja",), "waafipay": ("waafipay",)}
# A payment confirmed a little before or after the statement's first/last line still belongs to it.
PERIOD_SLACK = timedelta(minutes=10)


class BadStatement(VendingError):
    code = "bad_statement"


def _aware(value: datetime | None) -> datetime | None:
    return timezone.make_aware(value) if value is not None and timezone.is_naive(value) else value


def _our_payments(source: str, lines: list[rec.StatementLine], start: datetime | None, end: datetime | None):
    refs = {line.their_reference for line in lines} | {line.account_reference for line in lines}
    refs.discard("")
    in_statement = (
        Q(receipt__in=refs)
        | Q(provider_reference__in=refs)
        | Q(purchase__reference__in=refs)
        | Q(purchase__idempotency_key__in=refs)
    )
    query = in_statement
    if start is not None and end is not None:
        query |= Q(
            state=PaymentState.CONFIRMED, created_at__gte=start - PERIOD_SLACK, created_at__lte=end + PERIOD_SLACK
        )
    payments = Payment.objects.filter(provider__in=PROVIDERS[source]).filter(query).select_related("purchase")
    for payment in payments:
        yield rec.OurPayment(
            payment_id=payment.pk,
            their_reference=payment.receipt if source == "mpesa" else payment.provider_reference,
            account_references=(payment.purchase.reference, payment.purchase.idempotency_key),
            amount=payment.amount_confirmed if payment.amount_confirmed is not None else payment.amount_requested,
            paid=payment.state == PaymentState.CONFIRMED,
        )


def statement_digest(text: str) -> str:
    """The same statement saved twice (other line endings, trailing blanks) gives the same digest."""
    normal = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))
    return hashlib.sha256(normal.encode()).hexdigest()


def _refuse_repeat(*, source: str, digest: str, lines: list[rec.StatementLine]) -> None:
    """A statement uploaded before (the same file, or every line already in earlier statements) is refused:
    counted twice it would hide nothing but double every total a reader adds up."""
    earlier = (
        ReconciliationStatement.objects.filter(source=source, content_hash=digest).select_related("uploaded_by").first()
    )
    if earlier is None:
        refs = {line.their_reference for line in lines if line.their_reference}
        seen = set(
            ReconciliationLine.objects.filter(statement__source=source, their_reference__in=refs).values_list(
                "their_reference", flat=True
            )
        )
        if not refs or seen != refs:
            return
        earlier = (
            ReconciliationStatement.objects.filter(source=source, lines__their_reference__in=refs)
            .select_related("uploaded_by")
            .first()
        )
        what = f"every line of it is already in statement {earlier.file_name}" if earlier else "it was uploaded"
    else:
        what = f"the same file was uploaded as {earlier.file_name}"
    when = f" on {timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M} by {earlier.uploaded_by}" if earlier else ""
    raise BadStatement(f"This statement was uploaded before: {what}{when}. Nothing was added.")


def statement_upload(*, actor: User, source: str, text: str, file_name: str) -> ReconciliationStatement:
    """Parse the statement, match it with our payments over its period, and store every outcome."""
    require(actor, RECONCILE)
    if source not in rec.PARSERS:
        raise BadStatement(f"unknown statement type {source!r}")
    try:
        lines = rec.PARSERS[source](text)
    except rec.StatementError as exc:
        raise BadStatement(f"This does not look like a {source} statement: {exc}") from exc
    digest = statement_digest(text)
    _refuse_repeat(source=source, digest=digest, lines=lines)
    start, end = (_aware(t) for t in rec.period(lines))
    matches = rec.match(lines, _our_payments(source, lines, start, end))
    with transaction.atomic():
        statement = ReconciliationStatement.objects.create(
            source=source,
            file_name=file_name[:200],
            period_start=start,
            period_end=end,
            uploaded_by=actor,
            content_hash=digest,
        )
        ReconciliationLine.objects.bulk_create(
            [
                ReconciliationLine(
                    statement=statement,
                    outcome=m.outcome,
                    payment_id=m.ours.payment_id if m.ours else None,
                    their_reference=m.line.their_reference[:64] if m.line else "",
                    account_reference=m.line.account_reference[:64] if m.line else "",
                    amount_theirs=m.line.amount if m.line else None,
                    amount_ours=m.ours.amount if m.ours else None,
                    occurred_at=_aware(m.line.occurred_at) if m.line else None,
                    raw=m.line.raw if m.line else {},
                )
                for m in matches
            ]
        )
        counts = {o: sum(1 for m in matches if m.outcome == o) for o in ReconciliationLine.Outcome.values}
        audit_record(
            action="reconciliation.statement_uploaded",
            obj=statement,
            actor=actor,
            data={"file": file_name[:200], "source": source, **counts},
        )
    return statement


def resolve_actions_for(actor: User) -> list[tuple[str, str]]:
    """The resolutions `actor` may choose: refunding needs the refund right as well."""
    return [
        (value, label)
        for value, label in ReconciliationResolution.Action.choices
        if value != ReconciliationResolution.Action.REFUND or allowed(actor, REFUND_PURCHASE)
    ]


def _payment_of(line: ReconciliationLine) -> Payment:
    """The payment of ours a flag or a refund acts on; a line without one can only be acknowledged."""
    if line.payment is None:
        raise VendingError("This line has no payment of ours to act on; acknowledge it with a reason.")
    return line.payment


def mismatch_resolve(*, actor: User, line: ReconciliationLine, action: str, reason: str) -> ReconciliationResolution:
    """Settle one mismatch with an action and a reason; a line is resolved once."""
    require(actor, RECONCILE)
    reason = require_reason(reason)
    if action not in ReconciliationResolution.Action.values:
        raise VendingError(f"unknown resolution {action!r}")
    if line.outcome == ReconciliationLine.Outcome.MATCHED:
        raise VendingError("A matched line needs no resolution.")
    with transaction.atomic():
        locked = ReconciliationLine.objects.select_for_update().get(pk=line.pk)
        if ReconciliationResolution.objects.filter(line=locked).exists():
            raise VendingError("This mismatch is already resolved.")
        if action == ReconciliationResolution.Action.FLAG_PAYMENT:
            Payment.objects.filter(pk=_payment_of(locked).pk).update(
                flagged=True, flag_reason=f"reconciliation: {reason}"[:255]
            )
        elif action == ReconciliationResolution.Action.REFUND:
            require(actor, REFUND_PURCHASE)  # reconciling does not carry the refund right (Finance has none)
            staff_purchase_refund(actor=actor, purchase=_payment_of(locked).purchase, reason=reason)
        resolution = ReconciliationResolution.objects.create(
            line=locked, action=action, reason=reason, resolved_by=actor
        )
        audit_record(
            action="reconciliation.mismatch_resolved",
            obj=locked,
            actor=actor,
            reason=reason,
            purchase=locked.payment.purchase if locked.payment is not None else None,
            before={"outcome": locked.outcome},
            after={"resolution": action},
        )
    return resolution
