"""The thin layer between the pure machine and the rest of koronto.

`DatabaseReader` answers the machine's reads with selectors; `perform` runs the effects a step asked for
through services; `error_text` is the one place USSD maps a VendingError to words on the screen. Nothing
here calls a payment provider, the STS engine or the SMS gateway: services enqueue that work on commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from ussd.conversation import (
    CreatePurchase,
    Effect,
    MeterInfo,
    PurchaseInfo,
    QuoteInfo,
    QuoteRefused,
    RemoveMeter,
    ResendToken,
    SavedMeter,
    SaveMeter,
    SetLanguage,
    TokenInfo,
)
from vending import phones, ratelimit
from vending.exceptions import (
    AmountOutOfRange,
    MeterBlocked,
    MeterNotVendable,
    RateLimited,
    UnknownMeter,
    UnsupportedWallet,
    VendingError,
)
from vending.i18n import render
from vending.models import Meter, Purchase
from vending.models.choices import Channel
from vending.privacy import masked_label
from vending.selectors.customers import saved_meters_of
from vending.selectors.history import last_tokens_for_phone, recent_purchases_for_phone
from vending.selectors.meters import meter_by_drn, meter_for_purchase
from vending.selectors.quotes import ShownQuote, purchase_quote_for_drn
from vending.services.customers import TooManySavedMeters
from vending.services.purchases import purchase_create
from vending.services.self_service import (
    language_set,
    saved_meter_add,
    saved_meter_remove,
    token_resend_by_reference,
)
from vending.tariffs import Quote
from vending.wallets import wallets_for_currency

logger = logging.getLogger(__name__)

PURCHASES_PER_HOUR = "ussd-purchases"
_SAVED = "saved"  # DatabaseReader.reads: the saved-meters snapshot
_SHOWN_QUOTE = "quote"  # DatabaseReader.reads: the last quote shown in this session


class DatabaseReader:
    """The machine's `Reader` for one phone, answered from the database (each read at most once per hop).

    `reads` is the session's memo (sessions.Session.reads): the saved meters, with what a buyer's pick needs
    to know about each (status, currency, amount range), are read once per session, on the hop that first
    needs them, and later hops of the same session use that snapshot instead of querying again. The snapshot
    is for menus only: the quote re-reads the meter, and purchase_create checks its status again, so a
    meter blocked a few seconds into a session is still refused. `perform` drops the snapshot when this
    session saves or removes a meter.
    """

    def __init__(self, *, phone: str, customer_id: int, now: datetime, reads: dict[str, Any] | None = None) -> None:
        self.phone = phone
        self.customer_id = customer_id
        self.now = now
        self.reads: dict[str, Any] = {} if reads is None else reads
        self._saved: dict[str, tuple[SavedMeter, MeterInfo]] | None = None
        self._meters: dict[str, Meter | None] = {}

    def _meter(self, drn: str) -> Meter | None:
        if drn not in self._meters:
            self._meters[drn] = meter_by_drn(drn=drn)
        return self._meters[drn]

    def _saved_meters(self) -> dict[str, tuple[SavedMeter, MeterInfo]]:
        if self._saved is None:
            rows = self.reads.get(_SAVED)
            if not isinstance(rows, list):
                rows = [
                    [
                        row.drn,
                        row.alias,
                        masked_label(row.label),
                        row.active,
                        row.currency,
                        str(row.min_purchase),
                        str(row.max_purchase),
                    ]
                    for row in saved_meters_of(customer_id=self.customer_id)
                ]
                self.reads[_SAVED] = rows
            self._saved = {
                drn: (
                    SavedMeter(drn=drn, alias=alias, label=label),
                    MeterInfo(drn=drn, label=label, active=active, currency=currency, min_amount=low, max_amount=high),
                )
                for drn, alias, label, active, currency, low, high in rows
            }
        return self._saved

    def saved_meters(self) -> Sequence[SavedMeter]:
        return [saved for saved, _info in self._saved_meters().values()]

    def find_meter(self, drn: str) -> MeterInfo | None:
        if self._saved is not None or _SAVED in self.reads:
            known = self._saved_meters().get(drn)
            if known is not None:  # one of the customer's meters, read earlier in this session
                return known[1]
        meter = self._meter(drn)
        if meter is None:
            return None
        return MeterInfo(
            drn=meter.drn,
            label=masked_label(meter.label_name),
            active=meter.status == Meter.Status.ACTIVE,
            currency=meter.tariff.currency,
            min_amount=str(meter.tariff.min_purchase),
            max_amount=str(meter.tariff.max_purchase),
        )

    def quote(self, drn: str, amount: str) -> QuoteInfo | QuoteRefused | None:
        try:
            quote = purchase_quote_for_drn(drn=drn, amount=Decimal(amount), now=self.now)
        except AmountOutOfRange as exc:
            return QuoteRefused(exc.message_key, exc.message_values) if exc.message_key else None
        if quote is None:
            return None
        # Kept for the confirm hop: the purchase carries the quote the customer is about to confirm.
        self.reads[_SHOWN_QUOTE] = {"drn": drn, "at": self.now.timestamp(), "quote": quote.to_dict()}
        return QuoteInfo(
            amount=f"{quote.amount:f}",
            currency=quote.currency,
            kwh=f"{quote.kwh:f}",
            vat=f"{quote.vat:f}",
            fixed_charge=f"{quote.fixed_charge:f}",
            debt_recovery=f"{quote.debt_recovery:f}",
        )

    def wallets(self, currency: str) -> Sequence[str]:
        wallets = wallets_for_currency(currency)
        try:
            preferred = phones.wallet_for(self.phone, phones.operator_prefixes(settings.SMS_OPERATOR_PREFIXES))
        except ValueError:  # not a number we can place (or a prefix setting the system check refuses at start)
            preferred = None
        # The wallet of the phone's own operator first; that is only a hint, so every other wallet stays.
        return sorted(wallets, key=lambda w: w != preferred)

    def last_tokens(self, drn: str) -> Sequence[TokenInfo]:
        meter = self._meter(drn)
        if meter is None:
            return []
        return [
            TokenInfo(reference=t.purchase.reference, digits=t.grouped, units=f"{t.units}")
            for t in last_tokens_for_phone(phone=self.phone, meter=meter)
            if t.purchase is not None  # always, for the selector's tokens
        ]

    def recent_purchases(self) -> Sequence[PurchaseInfo]:
        aliases = {s.drn: s.alias for s in self.saved_meters()}
        return [
            PurchaseInfo(
                reference=p.reference,
                amount=f"{p.amount:f}",
                currency=p.currency,
                meter_name=aliases.get(p.meter.drn) or masked_label(p.meter.label_name),
                state=_shown_state(p),
                date=timezone.localtime(p.created_at).strftime("%d/%m %H:%M"),
            )
            for p in recent_purchases_for_phone(phone=self.phone)
        ]


def _shown_state(purchase: Purchase) -> str:
    """The state as the customer should read it: a payment they declined themselves is not a failure."""
    if purchase.state == "payment_failed" and purchase.failure_reason == "cancelled":
        return "payment_cancelled"
    return purchase.state


# --- Effects ---------------------------------------------------------------------------------------------


def idempotency_key(session_id: str) -> str:
    """One purchase per USSD session: an aggregator retrying the confirm hop finds the first one."""
    key = f"ussd:{session_id}"
    return key if len(key) <= 80 else "ussd:#" + hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def purchase_limit() -> ratelimit.Limit:
    return ratelimit.Limit(PURCHASES_PER_HOUR, settings.USSD_PURCHASES_PER_HOUR, 3600)


def perform(
    effects: Iterable[Effect],
    *,
    phone: str,
    customer_id: int,
    session_id: str,
    lang: str,
    now: datetime,
    reads: dict[str, Any] | None = None,
) -> str | None:
    """Run the step's effects in order; return customer text to show instead of the step's reply if one failed.

    `reads` is the session's DatabaseReader memo: a change to the saved meters makes its snapshot stale.
    """
    for effect in effects:
        if reads is not None and isinstance(effect, SaveMeter | RemoveMeter):
            reads.pop(_SAVED, None)
        try:
            _perform_one(
                effect,
                phone=phone,
                customer_id=customer_id,
                session_id=session_id,
                lang=lang,
                now=now,
                reads=reads or {},
            )
        except VendingError as exc:
            logger.info("ussd effect %s refused: %s", type(effect).__name__, exc.code)
            if isinstance(effect, SaveMeter) and effect.best_effort:
                continue
            return error_text(exc, lang)
    return None


def _perform_one(
    effect: Effect, *, phone: str, customer_id: int, session_id: str, lang: str, now: datetime, reads: dict[str, Any]
) -> None:
    if isinstance(effect, CreatePurchase):
        meter = meter_for_purchase(drn=effect.drn)
        if meter is None:
            raise UnknownMeter(effect.drn)
        # An aggregator's retry of this hop never gets here (the session replays its reply), and a repeat
        # that does (a lost session) finds the first purchase by its idempotency key.
        if not ratelimit.hit(purchase_limit(), phone, now_seconds=now.timestamp()):
            raise RateLimited("too many USSD purchases from this phone")
        purchase_create(
            channel=Channel.USSD,
            meter=meter,
            payer_phone=phone,
            wallet=effect.wallet,
            amount=Decimal(effect.amount),
            idempotency_key=idempotency_key(session_id),
            customer_id=customer_id,  # only its id links the purchase: no query for the row
            language=lang,
            now=now,
            shown_quote=shown_quote(reads),
        )
    elif isinstance(effect, SaveMeter):
        saved_meter_add(customer_id=customer_id, drn=effect.drn, alias=effect.alias)
    elif isinstance(effect, RemoveMeter):
        saved_meter_remove(customer_id=customer_id, drn=effect.drn)
    elif isinstance(effect, SetLanguage):
        language_set(customer_id=customer_id, language=effect.language)
    elif isinstance(effect, ResendToken):
        token_resend_by_reference(reference=effect.reference, phone=phone)
    else:  # pragma: no cover - a new effect type without a runner is a programming error
        raise TypeError(f"no runner for {effect!r}")


def shown_quote(reads: dict[str, Any]) -> ShownQuote | None:
    """The quote this session last showed (DatabaseReader.quote), if one was; purchase_create checks it fits."""
    shown = reads.get(_SHOWN_QUOTE)
    if not isinstance(shown, dict):
        return None
    try:
        return ShownQuote(
            drn=shown["drn"],
            quote=Quote.from_dict(shown["quote"]),
            quoted_at=datetime.fromtimestamp(float(shown["at"]), tz=UTC),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):  # a record from another version: quote afresh
        return None


# The one place USSD turns an error into words on the screen (docs/DESIGN.md rule 9).
_ERROR_KEYS: tuple[tuple[type[VendingError], str], ...] = (
    (RateLimited, "ussd.buy.limit"),
    (MeterBlocked, "ussd.err.meter_blocked"),
    (MeterNotVendable, "ussd.err.not_vendable"),
    (UnknownMeter, "ussd.err.meter_unknown"),
    (UnsupportedWallet, "ussd.err.wallet"),
    (TooManySavedMeters, "ussd.err.too_many_meters"),
    (AmountOutOfRange, "ussd.err.quote"),
)


def error_text(exc: VendingError, lang: str) -> str:
    if isinstance(exc, AmountOutOfRange) and exc.message_key:
        return render(exc.message_key, lang, **exc.message_values)
    for kind, message in _ERROR_KEYS:
        if isinstance(exc, kind):
            return render(message, lang)
    return render("ussd.error", lang)
