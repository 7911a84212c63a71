"""Starting a purchase: every channel (USSD, SMS, staff, API) comes through `purchase_create`.

The purchase row, its reference (our AccountReference / referenceId) and its payment row are committed
before any outbound call; the INITIATED payment is the push to do (vending.pipeline dispatches it on commit
with a short countdown, so the customer's USSD session has ended before the payment prompt arrives,
docs/PROTOCOLS.md §6 rule 1; the outbox sweep dispatches it again if that message is lost).
"""

import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from vending import phones, pipeline
from vending.exceptions import (
    AmountOutOfRange,
    MeterBlocked,
    MeterNotVendable,
    UnsupportedWallet,
    VendingError,
)
from vending.models import Customer, Meter, Payment, Purchase
from vending.selectors.quotes import ShownQuote, purchase_quote
from vending.selectors.vendability import meter_vendability
from vending.services.audit import audit_record
from vending.services.plain_writes import row_insert
from vending.services.providers import provider_for_wallet
from vending.tariffs import Quote
from vending.wallets import wallet_spec

# No 0/O or 1/I: references are read aloud and typed from SMS.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 10
# What a whole amount counts in, for the refusal of cents (M-Pesa: "in whole shillings").
_WHOLE_UNITS = {"KES": "shillings", "SLSH": "shillings", "USD": "dollars"}


def new_reference() -> str:
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _validate(*, meter: Meter, wallet: str, amount: Decimal) -> None:
    if meter.status != Meter.Status.ACTIVE:
        raise MeterBlocked(f"Meter {meter.drn} is blocked. Please contact your utility.")
    currency = meter.tariff.currency
    spec = wallet_spec(wallet)
    if spec is None or currency not in spec.currencies:
        raise UnsupportedWallet(f"This meter is paid in {currency}; choose another wallet.")
    if spec.whole_amounts and amount != amount.to_integral_value():
        raise AmountOutOfRange(f"{spec.name} payments are in whole {_WHOLE_UNITS.get(currency, 'units')}.")


def purchase_create(
    *,
    channel: str,
    meter: Meter,
    payer_phone: str,
    wallet: str,
    amount: Decimal,
    idempotency_key: str,
    customer: Customer | None = None,
    customer_id: int | None = None,
    language: str = "en",
    created_by: User | None = None,
    now: datetime | None = None,
    shown_quote: ShownQuote | None = None,
) -> Purchase:
    """Validate and record a purchase, then enqueue the payment push on commit.

    The same `idempotency_key` returns the first purchase unchanged (no second push). Raises
    MeterBlocked, MeterNotVendable, UnsupportedWallet or AmountOutOfRange with a message a customer understands.
    `customer_id` links the customer when the caller has only its id (no query for the row).
    `shown_quote` is the quote the customer just confirmed: while it is honoured (same meter, amount and
    month, a few minutes old) the purchase carries exactly the units they were shown; otherwise, or
    without one, the purchase is quoted afresh.
    """
    now = now or timezone.now()
    amount = Decimal(amount)
    try:
        payer, quote = _checked(
            meter=meter, payer_phone=payer_phone, wallet=wallet, amount=amount, now=now, shown_quote=shown_quote
        )
    except VendingError:
        first = _first_with_key(idempotency_key)
        if first is not None:  # a repeat of a request that was fine the first time: its answer stands
            return first
        raise
    provider = provider_for_wallet(wallet)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                # Plain INSERTs (vending.services.plain_writes): the rows Purchase/Payment.objects.create would write.
                purchase = Purchase(
                    reference=new_reference(),
                    idempotency_key=idempotency_key,
                    channel=channel,
                    meter=meter,
                    **({"customer": customer} if customer is not None else {"customer_id": customer_id}),
                    payer_phone=payer,
                    wallet=wallet,
                    amount=amount,
                    currency=meter.tariff.currency,
                    language=language,
                    quote=quote.to_dict(),
                    fixed_charge=quote.fixed_charge,
                    created_by=created_by,
                    created_at=now,
                )
                row_insert(purchase)
                row_insert(Payment(purchase=purchase, provider=provider.name, amount_requested=amount, created_at=now))
                audit_record(
                    action="purchase.created",
                    obj=purchase,
                    actor=created_by,
                    actor_label=payer if created_by is None else "system",
                    data={"channel": channel, "wallet": wallet, "amount": str(amount), "provider": provider.name},
                )
                pipeline.record(pipeline.Work.PUSH, purchase.pk, countdown=settings.PURCHASE_PUSH_COUNTDOWN_SECONDS)
            return purchase
        except IntegrityError:
            # The idempotency key is unique: a repeat (or the same request twice at once) lands here, and
            # the first one wins. Looking the key up only now keeps a query off every first request.
            first = _first_with_key(idempotency_key)
            if first is not None:
                return first
            # otherwise a reference collision (1 in 32^10): draw again
    raise IntegrityError("could not allocate a purchase reference")


def _checked(
    *, meter: Meter, payer_phone: str, wallet: str, amount: Decimal, now: datetime, shown_quote: ShownQuote | None
) -> tuple[str, Quote]:
    """The payer's normalised number and the purchase's quote, or the VendingError a customer should see."""
    try:
        payer = phones.normalise(payer_phone)
    except phones.InvalidPhoneNumber as exc:
        raise UnsupportedWallet("This phone number cannot pay. Check the number and try again.") from exc
    _validate(meter=meter, wallet=wallet, amount=amount)
    vendable = meter_vendability(meter=meter, now=now)
    if not vendable.ok:  # before any payment is asked for: a paid purchase on this meter would fail to vend
        raise MeterNotVendable(f"Meter {meter.drn} cannot be sold now ({vendable.detail}); contact the utility.")
    honoured = shown_quote.honoured_for(meter=meter, amount=amount, now=now) if shown_quote else None
    # AmountOutOfRange with the reason when quoted afresh
    return payer, honoured or purchase_quote(meter=meter, amount=amount, now=now)


def _first_with_key(idempotency_key: str) -> Purchase | None:
    return Purchase.objects.filter(idempotency_key=idempotency_key).first()
