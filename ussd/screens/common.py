"""What the screens share: parsing what a customer types, formatting money, and where a chosen meter leads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ussd.conversation import Ctx, Go, Item, Outcome, Retry, safe_text
from vending.exceptions import BadMeterNumber
from vending.meter_numbers import clean_drn
from vending.sms.gsm7 import is_gsm7
from vending.wallets import wallet_spec

LANGUAGES = ("en", "so", "sw")
_AMOUNT = re.compile(r"\d{1,9}(\.\d{1,2})?")
MAX_NAME_LENGTH = 20
METER_PROBLEMS = (
    "ussd.err.meter_digits",
    "ussd.err.meter_length",
    "ussd.err.meter_check",
    "ussd.err.meter_unknown",
    "ussd.err.meter_blocked",
)
# The tariff's own refusals (vending/tariffs.py), shown as they are; an unknown one falls back to ussd.err.quote.
TARIFF_REFUSALS = (
    "tariff.error.not_positive",
    "tariff.error.decimals",
    "tariff.error.range",
    "tariff.error.below_fixed",
    "tariff.error.below_charges",
    "tariff.error.too_many_kwh",
)


# --- Small pure helpers ------------------------------------------------------------------------------


def money(value: str | Decimal) -> str:
    """500 for whole amounts, 2.50 otherwise: what a customer would type."""
    amount = Decimal(str(value))
    return str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"


def parse_amount(text: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None


_METER_PROBLEMS = {
    "digits": "ussd.err.meter_digits",
    "length": "ussd.err.meter_length",
    "check": "ussd.err.meter_check",
}


def meter_number(text: str) -> tuple[str | None, str]:
    """(problem message key, cleaned DRN): clean_drn decides; the key says why, in the customer's words."""
    if not text.isascii():  # other scripts' digits are digits to Python, not to a meter
        return "ussd.err.meter_digits", ""
    try:
        return None, clean_drn(text)
    except BadMeterNumber as exc:
        return _METER_PROBLEMS[exc.problem], ""


def meter_name(text: str) -> str | None:
    """A name a customer gives a meter: 1-20 GSM-7 letters, digits, spaces and - ' . ; None if not."""
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not is_gsm7(name):
        return None
    return name if all(ch.isalnum() or ch in " -'." for ch in name) else None


def wallet_label(code: str, lang: str) -> str:
    """The wallet's name in the menu (vending/wallets.py); a code the registry does not know, made safe."""
    spec = wallet_spec(code)
    return spec.label(lang) if spec else safe_text(code)


def whole_amounts_only(codes: Sequence[str]) -> bool:
    """Every wallet offered takes whole amounts only, so cents cannot be paid at all."""
    specs = [wallet_spec(code) for code in codes]
    return bool(specs) and all(spec is not None and spec.whole_amounts for spec in specs)


def meter_label(meter: dict[str, Any]) -> str:
    return safe_text(meter["label"], 20)


def saved_item(saved: Any) -> Item:
    return Item(f"{safe_text(saved.alias or saved.label, 12)} {saved.drn}", saved.drn)


def meter_chosen(ctx: Ctx, purpose: str, drn: str) -> Outcome:
    """Where a picked or typed meter leads, by the menu it was picked in."""
    info = ctx.reader.find_meter(drn)
    if info is None:
        return Retry("ussd.err.meter_unknown")
    saved = {s.drn: s for s in ctx.reader.saved_meters()}
    if purpose == "buy":
        if not info.active:
            return Retry("ussd.err.meter_blocked")
        if drn in saved:
            return Go("buy.amount", {"meter": info.to_dict()})
        return Go("buy.meter_found", {"meter": info.to_dict()})
    if purpose == "tokens":
        name = saved[drn].alias if drn in saved and saved[drn].alias else info.label
        return Go("tokens.list", {"drn": drn, "name": name})
    return Go("meters.add_name", {"meter": info.to_dict()})
