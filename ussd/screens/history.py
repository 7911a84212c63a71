"""My last tokens (with an SMS resend) and purchase status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ussd.conversation import (
    Ctx,
    Finish,
    Go,
    Item,
    ListScreen,
    Outcome,
    ResendToken,
    Retry,
    Screen,
    safe_text,
    screen,
)
from ussd.screens.common import money

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
            Item(
                ctx.t(
                    "ussd.status.item",
                    name=safe_text(p.meter_name, 10),
                    currency=p.currency,
                    amount=money(p.amount),
                    state=ctx.t(f"ussd.state.{p.state}"),
                ),
                {
                    "reference": p.reference,
                    "amount": p.amount,
                    "currency": p.currency,
                    "name": p.meter_name,
                    "state": p.state,
                    "date": p.date,
                },
            )
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
        return self.compose(
            ctx,
            ctx.t(
                "ussd.status.detail",
                reference=safe_text(p["reference"], 12),
                currency=p["currency"],
                amount=money(p["amount"]),
                name=safe_text(p["name"], 20),
                date=safe_text(p["date"], 16),
                state=ctx.t(f"ussd.state.{p['state']}"),
            ),
        )

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        return Retry("ussd.err.choice")
