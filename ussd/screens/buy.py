"""Buying electricity: pick or type a meter, amount, wallet, confirm."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ussd.conversation import (
    CreatePurchase,
    Ctx,
    Finish,
    Go,
    Item,
    ListScreen,
    MeterInfo,
    Outcome,
    QuoteRefused,
    Retry,
    SaveMeter,
    Screen,
    screen,
)
from ussd.screens.common import (
    METER_PROBLEMS,
    TARIFF_REFUSALS,
    meter_chosen,
    meter_label,
    meter_number,
    money,
    parse_amount,
    saved_item,
    wallet_label,
    whole_amounts_only,
)

# --- Picking a meter (buy, last tokens, add) ----------------------------------------------------------


@screen
class PickMeter(ListScreen):
    name = "pick_meter"
    notes = ("ussd.err.choice", "ussd.err.meter_unknown", "ussd.err.meter_blocked")

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.buy.pick_meter" if ctx.data.get("for") == "buy" else "ussd.tokens.pick_meter")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [*map(saved_item, ctx.reader.saved_meters()), Item(ctx.t("ussd.item.new_meter"), None)]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        purpose = ctx.data.get("for", "buy")
        if value is None:
            return Go("enter_meter", {"for": purpose})
        return meter_chosen(ctx, purpose, value)


@screen
class EnterMeter(Screen):
    name = "enter_meter"
    notes = (*METER_PROBLEMS, "ussd.err.meter_empty")
    empty_note = "ussd.err.meter_empty"

    def render(self, ctx: Ctx) -> str:
        return self.compose(ctx, ctx.t("ussd.enter_meter"))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        problem, drn = meter_number(text)
        if problem:
            return Retry(problem)
        return meter_chosen(ctx, ctx.data.get("for", "buy"), drn)


# --- Buying -----------------------------------------------------------------------------------------


@screen
class BuyMeterFound(Screen):
    """A typed meter: show whose it is before any money moves, and offer to save it."""

    name = "buy.meter_found"

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        return self.compose(ctx, ctx.t("ussd.buy.meter_found", drn=meter["drn"], label=meter_label(meter)))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        if text == "1":
            return Go("buy.amount", ctx.data)
        if text == "2":
            return Go("buy.amount", ctx.data, effects=(SaveMeter(ctx.data["meter"]["drn"], best_effort=True),))
        return Retry("ussd.err.choice")


@screen
class BuyAmount(Screen):
    name = "buy.amount"
    notes = (
        "ussd.err.amount_number",
        "ussd.err.whole_amount",
        "ussd.err.amount_range",
        "ussd.err.quote",
        "ussd.err.amount_empty",
        *TARIFF_REFUSALS,
    )
    empty_note = "ussd.err.amount_empty"

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        text = ctx.t(
            "ussd.buy.amount",
            label=meter_label(meter),
            drn=meter["drn"],
            currency=meter["currency"],
            min=money(meter["min_amount"]),
            max=money(meter["max_amount"]),
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
            return Retry(
                "ussd.err.amount_range",
                {
                    "currency": meter.currency,
                    "min": money(meter.min_amount),
                    "max": money(meter.max_amount),
                },
            )
        wallets = list(ctx.reader.wallets(meter.currency))
        if amount != amount.to_integral_value() and whole_amounts_only(wallets):
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
        return [Item(wallet_label(w, ctx.lang), w) for w in wallets]

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        return Go("buy.confirm", {**ctx.data, "wallet": value})


@screen
class BuyConfirm(Screen):
    name = "buy.confirm"

    def render(self, ctx: Ctx) -> str:
        meter, quote = ctx.data["meter"], ctx.data["quote"]
        text = ctx.t(
            "ussd.buy.confirm",
            currency=quote["currency"],
            amount=money(quote["amount"]),
            label=meter_label(meter),
            kwh=quote["kwh"],
            vat=quote["vat"],
            fixed=quote["fixed_charge"],
            debt=quote["debt_recovery"],
            wallet=wallet_label(ctx.data["wallet"], ctx.lang),
        )
        if ctx.note:  # a re-prompt: the amount, units, wallet and choices; the meter and charges were just shown
            lines = text.split("\n")
            text = "\n".join([lines[1], *lines[3:]])
        return self.compose(ctx, text)

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        meter, quote, wallet = ctx.data["meter"], ctx.data["quote"], ctx.data["wallet"]
        if text == "1":
            # END first: a phone still in USSD cannot take the wallet's prompt (docs/PROTOCOLS.md §6 rule 1).
            return Finish(
                "ussd.buy.approve",
                {
                    "wallet": wallet_label(wallet, ctx.lang),
                    "currency": quote["currency"],
                    "amount": money(quote["amount"]),
                },
                effects=(CreatePurchase(drn=meter["drn"], amount=str(quote["amount"]), wallet=wallet),),
            )
        if text == "2":
            return Finish("ussd.buy.cancelled")
        return Retry("ussd.err.choice")
