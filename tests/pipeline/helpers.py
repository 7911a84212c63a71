"""Shared steps for pipeline tests."""

import itertools
from decimal import Decimal

from vending.models import Meter, Purchase, SmsMessage
from vending.services.purchases import purchase_create

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
