"""Shared steps for pipeline tests."""

import itertools
from decimal import Decimal

from vending.models import Meter, Payment, ProviderCallback, Purchase, SmsMessage
from vending.payments import PaymentRequest
from vending.payments.sandbox import SandboxProvider
from vending.services.payments import callback_store
from vending.services.purchases import purchase_create
from vending.states import PaymentState, PurchaseState

_keys = itertools.count(1)


def buy(
    capture,
    meter: Meter,
    *,
    phone: str = "+254711000111",
    amount: str = "100",
    wallet: str = "mpesa",
    key: str | None = None,
    **extra,
) -> Purchase:
    """Create a purchase and run everything it enqueues (eager Celery) until nothing is left."""
    with capture(execute=True):
        purchase = purchase_create(
            channel="ussd",
            meter=meter,
            payer_phone=phone,
            wallet=wallet,
            amount=Decimal(amount),
            idempotency_key=key or f"k-{next(_keys)}",
            **extra,
        )
    purchase.refresh_from_db()
    return purchase


def texts_to(phone: str) -> list[str]:
    return list(SmsMessage.objects.filter(phone=phone, direction="out").order_by("pk").values_list("text", flat=True))


def pending_with_paid_callback(meter: Meter, *, reference: str) -> tuple[Purchase, ProviderCallback]:
    """A purchase waiting for its sandbox payment, and the stored (not yet processed) 'paid' callback for it."""
    purchase = Purchase.objects.create(
        reference=reference,
        idempotency_key=f"key-{reference}",
        channel="api",
        meter=meter,
        payer_phone="+254711000111",
        wallet="mpesa",
        amount=Decimal("100"),
        currency="KES",
        quote={"units": 50, "amount": "100", "vat": "0"},
        state=PurchaseState.PAYMENT_PENDING,
    )
    result = SandboxProvider(approve_delay=0).initiate(
        PaymentRequest(
            reference=purchase.reference,
            amount=purchase.amount,
            currency="KES",
            phone=purchase.payer_phone,
            wallet="mpesa",
        )
    )
    Payment.objects.create(
        purchase=purchase,
        provider="sandbox",
        state=PaymentState.PENDING,
        provider_reference=result.provider_reference,
        amount_requested=purchase.amount,
    )
    callback, _ = callback_store(
        provider="sandbox",
        kind="stk_callback",
        headers={"Content-Type": "application/json"},
        body=result.simulated_callbacks[0].body,
    )
    return purchase, callback
