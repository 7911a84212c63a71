"""The story of a purchase: every state change, callback, query, token and SMS, in time order."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from backoffice.lookup_terms import compact, phone_forms
from vending.models import AuditEvent, Customer, Meter, Payment, ProviderCallback, Purchase, SmsMessage, Token


@dataclass(frozen=True)
class StoryEntry:
    at: datetime
    kind: str  # audit | callback | token | sms
    title: str
    actor: str = ""
    detail: str = ""
    reason: str = ""


def _masked(digits: str) -> str:
    # Tokens are read out only through the audited reprint action.
    return f"•••• •••• •••• •••• {digits[-4:]}"


def _change(before: dict, after: dict) -> str:
    keys = sorted(set(before) | set(after))
    return ", ".join(f"{k}: {before.get(k, '—')} → {after.get(k, '—')}" for k in keys)


def purchase_story(purchase: Purchase) -> list[StoryEntry]:
    entries: list[StoryEntry] = []
    payment = Payment.objects.filter(purchase=purchase).first()
    audits = AuditEvent.objects.filter(
        Q(purchase=purchase)
        | Q(object_type="purchase", object_id=str(purchase.pk))
        | (Q(object_type="payment", object_id=str(payment.pk)) if payment else Q(pk__in=[]))
    ).select_related("actor")
    for event in audits:
        entries.append(
            StoryEntry(
                event.at, "audit", event.action, event.actor_label, _change(event.before, event.after), event.reason
            )
        )
    if payment is not None:
        for callback in ProviderCallback.objects.filter(payment=payment):
            detail = f"{callback.provider} {callback.kind}" + (
                " — flagged: " + callback.flag_reason if callback.flagged else ""
            )
            entries.append(
                StoryEntry(callback.received_at, "callback", f"callback {callback.kind}", callback.provider, detail)
            )
    for token in Token.objects.filter(purchase=purchase):
        units = f", {token.units} kWh" if token.units is not None else ""
        entries.append(
            StoryEntry(
                token.created_at,
                "token",
                f"{token.get_kind_display()} token issued",
                "system",
                f"TID {token.tid or '—'}{units}, {_masked(token.digits)}",
            )
        )
    for sms in SmsMessage.objects.filter(purchase=purchase):
        entries.append(
            StoryEntry(
                sms.created_at,
                "sms",
                f"SMS to {sms.phone}: {sms.get_status_display()}",
                sms.provider,
                sms.failure_reason,
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


@dataclass(frozen=True)
class Found:
    kind: str
    label: str
    url_name: str
    pk: int


def find_by_number(query: str, *, limit: int = 20) -> list[Found]:
    """A customer, meter, purchase or payment by any number staff may be told on the phone: phone numbers in
    local formats (backoffice.lookup_terms), meter numbers with spaces or dashes."""
    q = compact(query)
    if len(q) < 3:
        return []
    digits = q.lstrip("+")
    numbers = phone_forms(q)
    found: list[Found] = []
    for customer in Customer.objects.filter(Q(phone__in=numbers) | Q(phone__contains=digits))[:limit]:
        found.append(Found("customer", str(customer), "admin:vending_customer_change", customer.pk))
    for meter in Meter.objects.filter(Q(drn__contains=digits) | Q(pan__contains=digits))[:limit]:
        found.append(Found("meter", str(meter), "admin:vending_meter_change", meter.pk))
    purchases = (
        Purchase.objects.filter(
            Q(reference__iexact=q)
            | Q(payer_phone__in=numbers)
            | Q(payer_phone__contains=digits)
            | Q(idempotency_key__iexact=q)
            | Q(payment__receipt__iexact=q)
            | Q(payment__provider_reference__iexact=q)
            | Q(meter__drn=digits)
        )
        .select_related("meter")
        .order_by("-created_at")[:limit]
    )
    for purchase in purchases:
        found.append(Found("purchase", str(purchase), "admin:vending_purchase_change", purchase.pk))
    return found
