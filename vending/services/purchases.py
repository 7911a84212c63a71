"""Starting a purchase: every channel (USSD, SMS, staff, API) comes through `purchase_create`.

The purchase row, its reference (our AccountReference / referenceId) and its payment row are committed
before any outbound call; the push itself is a task enqueued on commit with a short countdown, so the
customer's USSD session has ended before the payment prompt arrives (PROTOCOLS 6 rule 1).
"""

import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from vending import phones
from vending.exceptions import AmountOutOfRange, MeterBlocked, UnsupportedWallet
from vending.models import Customer, Meter, Payment, Purchase
from vending.models.choices import WALLET_CURRENCIES, Wallet
from vending.selectors.quotes import purchase_quote
from vending.services.audit import audit_record
from vending.services.payments import provider_for_wallet

# No 0/O or 1/I: references are read aloud and typed from SMS.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 10


def new_reference() -> str:
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _validate(*, meter: Meter, wallet: str, amount: Decimal) -> None:
    if meter.status != Meter.Status.ACTIVE:
        raise MeterBlocked(f"Meter {meter.drn} is blocked. Please contact your utility.")
    currency = meter.tariff.currency
    if wallet not in Wallet.values or currency not in WALLET_CURRENCIES[wallet]:
        raise UnsupportedWallet(f"This meter is paid in {currency}; choose another wallet.")
    if wallet == Wallet.MPESA and amount != amount.to_integral_value():
        raise AmountOutOfRange("M-Pesa payments are in whole shillings.")


def purchase_create(
    *,
    channel: str,
    meter: Meter,
    payer_phone: str,
    wallet: str,
    amount: Decimal,
    idempotency_key: str,
    customer: Customer | None = None,
    language: str = "en",
    created_by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> Purchase:
    """Validate and record a purchase, then enqueue the payment push on commit.

    The same `idempotency_key` returns the first purchase unchanged (no second push). Raises
    MeterBlocked, UnsupportedWallet or AmountOutOfRange with a message a customer understands.
    """
    from vending.tasks import payment_initiate_task

    first = Purchase.objects.filter(idempotency_key=idempotency_key).first()
    if first is not None:
        return first
    now = now or timezone.now()
    amount = Decimal(amount)
    try:
        payer = phones.normalise(payer_phone)
    except phones.InvalidPhoneNumber as exc:
        raise UnsupportedWallet("This phone number cannot pay. Check the number and try again.") from exc
    _validate(meter=meter, wallet=wallet, amount=amount)
    quote = purchase_quote(meter=meter, amount=amount, now=now)  # AmountOutOfRange with the reason
    provider = provider_for_wallet(wallet)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                purchase = Purchase.objects.create(
                    reference=new_reference(), idempotency_key=idempotency_key, channel=channel, meter=meter,
                    customer=customer, payer_phone=payer, wallet=wallet, amount=amount,
                    currency=meter.tariff.currency, language=language, quote=quote.to_dict(),
                    created_by=created_by,
                )
                Payment.objects.create(purchase=purchase, provider=provider.name, amount_requested=amount)
                audit_record(action="purchase.created", obj=purchase, actor=created_by,
                             actor_label=payer if created_by is None else "system",
                             data={"channel": channel, "wallet": wallet, "amount": str(amount),
                                   "provider": provider.name})
                transaction.on_commit(lambda p=purchase: payment_initiate_task.apply_async(
                    args=[p.pk], countdown=settings.PURCHASE_PUSH_COUNTDOWN_SECONDS))
            return purchase
        except IntegrityError:
            first = Purchase.objects.filter(idempotency_key=idempotency_key).first()
            if first is not None:
                return first  # the same request, twice at once: the first one wins
            # otherwise a reference collision (1 in 32^10): draw again
    raise IntegrityError("could not allocate a purchase reference")
