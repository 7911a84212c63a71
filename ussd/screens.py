"""Every USSD screen: what it shows and what each answer leads to (registered into ussd.machine).

Flows (DESIGN.md, issue 5):
  home ─1─ pick_meter(buy) / enter_meter(buy) ─ [buy.meter_found] ─ buy.amount ─ [buy.wallet] ─ buy.confirm
       ─2─ meters ─ meters.actions ─ meters.rename | meters.remove ;  meters ─ enter_meter(add) ─ meters.add_name
       ─3─ pick_meter(tokens) / enter_meter(tokens) ─ tokens.list
       ─4─ status ─ status.detail
       ─5─ language
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import ussd.i18n  # noqa: F401  (registers the catalogue the screens render from)
from ussd.machine import (
    HOME,
    RESUME,
    CreatePurchase,
    Ctx,
    Finish,
    Go,
    Item,
    ListScreen,
    MeterInfo,
    Outcome,
    QuoteRefused,
    RemoveMeter,
    ResendToken,
    Retry,
    SaveMeter,
    Screen,
    SetLanguage,
    safe_text,
    screen,
)
from vending.exceptions import BadMeterNumber
from vending.meter_numbers import clean_drn
from vending.sms.gsm7 import is_gsm7

# Brand names, the same in every language.
WALLET_NAMES = {"mpesa": "M-Pesa", "evcplus": "EVC Plus", "zaad": "Zaad", "sahal": "Sahal"}
LANGUAGES = ("en", "so", "sw")
# Wallets that take whole amounts only (M-Pesa: whole shillings).
WHOLE_AMOUNT_WALLETS = frozenset({"mpesa"})
_AMOUNT = re.compile(r"\d{1,9}(\.\d{1,2})?")
MAX_NAME_LENGTH = 20
METER_PROBLEMS = (
    "ussd.err.meter_digits", "ussd.err.meter_length", "ussd.err.meter_check", "ussd.err.meter_unknown",
    "ussd.err.meter_blocked",
)
# The tariff's own refusals (vending/tariffs.py), shown as they are; an unknown one falls back to ussd.err.quote.
TARIFF_REFUSALS = (
    "tariff.error.not_positive", "tariff.error.decimals", "tariff.error.range", "tariff.error.below_fixed",
    "tariff.error.below_charges", "tariff.error.too_many_kwh",
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


def meter_number(text: str) -> tuple[str | None, str]:
    """(problem message key, cleaned DRN): clean_drn decides; the key says why, in the customer's words."""
    try:
        return None, clean_drn(text)
    except BadMeterNumber:
        digits = "".join(ch for ch in text if ch not in " -.")
        if not digits.isdigit() or not digits.isascii():
            return "ussd.err.meter_digits", ""
        if len(digits) not in (11, 13):
            return "ussd.err.meter_length", ""
        return "ussd.err.meter_check", ""


def meter_name(text: str) -> str | None:
    """A name a customer gives a meter: 1-20 GSM-7 letters, digits, spaces and - ' . ; None if not."""
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not is_gsm7(name):
        return None
    return name if all(ch.isalnum() or ch in " -'." for ch in name) else None


def _meter_label(meter: dict[str, Any]) -> str:
    return safe_text(meter["label"], 20)


def _saved_item(saved: Any) -> Item:
    return Item(f"{safe_text(saved.alias or saved.label, 12)} {saved.drn}", saved.drn)


def _meter_chosen(ctx: Ctx, purpose: str, drn: str) -> Outcome:
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


# --- Home, resume, language ------------------------------------------------------------------------


@screen
class Home(ListScreen):
    name = HOME
    show_nav = False

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.home.title")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [Item(ctx.t(f"ussd.home.{key}"), key) for key in ("buy", "meters", "tokens", "status", "language")]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        if value in ("buy", "tokens"):
            if ctx.reader.saved_meters():
                return Go("pick_meter", {"for": value})
            return Go("enter_meter", {"for": value})
        return Go(value if value in ("meters", "status", "language") else HOME)


@screen
class Resume(Screen):
    name = RESUME
    show_nav = False

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t("ussd.resume"))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        saved = ctx.data["saved"]
        if text == "1":
            return Go(saved["screen"], saved["data"], stack=saved.get("stack", []))
        if text == "2":
            return Go(HOME, stack=[])
        return Retry("ussd.err.choice")


@screen
class Language(ListScreen):
    name = "language"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.language.title")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [Item(ctx.t(f"ussd.language.{lang}"), lang) for lang in LANGUAGES]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        return Go(HOME, effects=(SetLanguage(value),), stack=[], lang=value)


# --- Picking a meter (buy, last tokens, add) ----------------------------------------------------------


@screen
class PickMeter(ListScreen):
    name = "pick_meter"
    notes = ("ussd.err.choice", "ussd.err.meter_unknown", "ussd.err.meter_blocked")

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.buy.pick_meter" if ctx.data.get("for") == "buy" else "ussd.tokens.pick_meter")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [*map(_saved_item, ctx.reader.saved_meters()), Item(ctx.t("ussd.item.new_meter"), None)]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        purpose = ctx.data.get("for", "buy")
        if value is None:
            return Go("enter_meter", {"for": purpose})
        return _meter_chosen(ctx, purpose, value)


@screen
class EnterMeter(Screen):
    name = "enter_meter"
    notes = METER_PROBLEMS

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t("ussd.enter_meter"))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        problem, drn = meter_number(text)
        if problem:
            return Retry(problem)
        return _meter_chosen(ctx, ctx.data.get("for", "buy"), drn)


# --- Buying -----------------------------------------------------------------------------------------


@screen
class BuyMeterFound(Screen):
    """A typed meter: show whose it is before any money moves, and offer to save it."""

    name = "buy.meter_found"

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        return self.compose(ctx, ctx.t("ussd.buy.meter_found", drn=meter["drn"], label=_meter_label(meter)))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        if text == "1":
            return Go("buy.amount", ctx.data)
        if text == "2":
            return Go("buy.amount", ctx.data, effects=(SaveMeter(ctx.data["meter"]["drn"], best_effort=True),))
        return Retry("ussd.err.choice")


@screen
class BuyAmount(Screen):
    name = "buy.amount"
    notes = ("ussd.err.amount_number", "ussd.err.whole_amount", "ussd.err.amount_range", "ussd.err.quote",
             *TARIFF_REFUSALS)

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        text = ctx.t(
            "ussd.buy.amount", label=_meter_label(meter), drn=meter["drn"], currency=meter["currency"],
            min=money(meter["min_amount"]), max=money(meter["max_amount"]),
        )
        if ctx.note:  # the tariff's reasons can be long: the re-prompt keeps the question, drops the meter line
            text = text.split("\n", 1)[-1]
        return self.compose(ctx, text)

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        meter = MeterInfo.from_dict(ctx.data["meter"])
        amount = parse_amount(text.replace(",", ""))
        if amount is None:
            return Retry("ussd.err.amount_number")
        if not Decimal(meter.min_amount) <= amount <= Decimal(meter.max_amount):
            return Retry("ussd.err.amount_range", {
                "currency": meter.currency, "min": money(meter.min_amount), "max": money(meter.max_amount),
            })
        wallets = list(ctx.reader.wallets(meter.currency))
        if amount != amount.to_integral_value() and wallets and set(wallets) <= WHOLE_AMOUNT_WALLETS:
            return Retry("ussd.err.whole_amount")
        quote = ctx.reader.quote(meter.drn, str(amount))
        if quote is None:
            return Retry("ussd.err.quote")
        if isinstance(quote, QuoteRefused):
            return Retry(quote.key if quote.key in TARIFF_REFUSALS else "ussd.err.quote", quote.values)
        if not wallets:
            return Finish("ussd.err.no_wallet")
        data = {"meter": meter.to_dict(), "quote": quote.to_dict()}
        if len(wallets) == 1:  # nothing to choose (M-Pesa for KES): one hop fewer
            return Go("buy.confirm", {**data, "wallet": wallets[0]})
        return Go("buy.wallet", data)


@screen
class BuyWallet(ListScreen):
    """The phone's own network's wallet first, every wallet that can pay in the meter's currency offered."""

    name = "buy.wallet"

    def title(self, ctx: Ctx) -> str:
        quote = ctx.data["quote"]
        return ctx.t("ussd.buy.wallet", currency=quote["currency"], amount=money(quote["amount"]))

    def items(self, ctx: Ctx) -> Sequence[Item]:
        wallets = ctx.reader.wallets(ctx.data["meter"]["currency"])
        return [Item(WALLET_NAMES.get(w, safe_text(w)), w) for w in wallets]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        return Go("buy.confirm", {**ctx.data, "wallet": value})


@screen
class BuyConfirm(Screen):
    name = "buy.confirm"

    def render(self, ctx: Ctx) -> str:
        meter, quote = ctx.data["meter"], ctx.data["quote"]
        text = ctx.t(
            "ussd.buy.confirm", currency=quote["currency"], amount=money(quote["amount"]),
            label=_meter_label(meter), kwh=quote["kwh"], vat=quote["vat"], fixed=quote["fixed_charge"],
            debt=quote["debt_recovery"], wallet=WALLET_NAMES.get(ctx.data["wallet"], ctx.data["wallet"]),
        )
        if ctx.note:  # a re-prompt: the amount, units, wallet and choices; the meter and charges were just shown
            lines = text.split("\n")
            text = "\n".join([lines[1], *lines[3:]])
        return self.compose(ctx, text)

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        meter, quote, wallet = ctx.data["meter"], ctx.data["quote"], ctx.data["wallet"]
        if text == "1":
            # END first: the phone must leave USSD before the wallet's own prompt can reach it (PROTOCOLS §6.1).
            return Finish(
                "ussd.buy.approve",
                {"wallet": WALLET_NAMES.get(wallet, wallet), "currency": quote["currency"],
                 "amount": money(quote["amount"])},
                effects=(CreatePurchase(drn=meter["drn"], amount=str(quote["amount"]), wallet=wallet),),
            )
        if text == "2":
            return Finish("ussd.buy.cancelled")
        return Retry("ussd.err.choice")


# --- My meters ----------------------------------------------------------------------------------------


@screen
class Meters(ListScreen):
    name = "meters"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.meters.title")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [*map(_saved_item, ctx.reader.saved_meters()), Item(ctx.t("ussd.item.add_meter"), None)]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        if value is None:
            return Go("enter_meter", {"for": "add"})
        saved = next((s for s in ctx.reader.saved_meters() if s.drn == value), None)
        if saved is None:
            return Retry("ussd.err.choice")
        return Go("meters.actions", {"drn": saved.drn, "alias": saved.alias, "label": saved.label})


def _saved_name(data: dict[str, Any]) -> str:
    return safe_text(data["alias"] or data["label"], 12)


@screen
class MeterActions(Screen):
    name = "meters.actions"

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t(
            "ussd.meters.actions", name=_saved_name(dict(ctx.data)), drn=ctx.data["drn"],
            label=safe_text(ctx.data["label"]),
        ))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        if text == "1":
            return Go("meters.rename", ctx.data)
        if text == "2":
            return Go("meters.remove", ctx.data)
        return Retry("ussd.err.choice")


@screen
class MeterRename(Screen):
    name = "meters.rename"
    notes = ("ussd.err.name",)

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t("ussd.meters.rename", drn=ctx.data["drn"]))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        name = meter_name(text)
        if name is None:
            return Retry("ussd.err.name")
        drn = ctx.data["drn"]
        return Finish("ussd.meters.renamed", {"drn": drn, "name": name}, effects=(SaveMeter(drn, alias=name),))


@screen
class MeterRemove(Screen):
    name = "meters.remove"

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t("ussd.meters.remove", name=_saved_name(dict(ctx.data)), drn=ctx.data["drn"]))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        drn = ctx.data["drn"]
        if text == "1":
            return Finish("ussd.meters.removed", {"drn": drn}, effects=(RemoveMeter(drn),))
        if text == "2":
            return Go("meters", stack=[[HOME, {}]])
        return Retry("ussd.err.choice")


@screen
class MeterAddName(Screen):
    name = "meters.add_name"
    notes = ("ussd.err.name",)

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        return self.compose(ctx, ctx.t("ussd.meters.add_name", label=_meter_label(meter), drn=meter["drn"]))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        name = meter_name(text)
        if name is None:
            return Retry("ussd.err.name")
        drn = ctx.data["meter"]["drn"]
        return Finish("ussd.meters.saved", {"drn": drn, "name": name}, effects=(SaveMeter(drn, alias=name),))


# --- My last tokens, purchase status --------------------------------------------------------------------


@screen
class Tokens(ListScreen):
    name = "tokens.list"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.tokens.title", name=safe_text(ctx.data["name"], 12))

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [Item(f"{t.digits} {t.units}kWh", t.reference) for t in ctx.reader.last_tokens(ctx.data["drn"])]

    def empty(self, ctx: Ctx) -> str:
        return ctx.t("ussd.tokens.none", drn=ctx.data["drn"])

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        return Finish("ussd.tokens.resent", {"reference": value}, effects=(ResendToken(value),))


@screen
class Status(ListScreen):
    name = "status"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.status.title")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [
            Item(ctx.t("ussd.status.item", name=safe_text(p.meter_name, 10), currency=p.currency,
                       amount=money(p.amount), state=ctx.t(f"ussd.state.{p.state}")),
                 {"reference": p.reference, "amount": p.amount, "currency": p.currency,
                  "name": p.meter_name, "state": p.state, "date": p.date})
            for p in ctx.reader.recent_purchases()
        ]

    def empty(self, ctx: Ctx) -> str:
        return ctx.t("ussd.status.none")

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        return Go("status.detail", value)


@screen
class StatusDetail(Screen):
    name = "status.detail"

    def render(self, ctx: Ctx) -> str:
        p = ctx.data
        return self.compose(ctx, ctx.t(
            "ussd.status.detail", reference=safe_text(p["reference"], 12), currency=p["currency"],
            amount=money(p["amount"]), name=safe_text(p["name"], 20), date=safe_text(p["date"], 16),
            state=ctx.t(f"ussd.state.{p['state']}"),
        ))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        return Retry("ussd.err.choice")
