"""My meters: list, add, rename, remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ussd.conversation import (
    HOME,
    Ctx,
    Finish,
    Go,
    Item,
    ListScreen,
    Outcome,
    RemoveMeter,
    Retry,
    SaveMeter,
    Screen,
    safe_text,
    screen,
)
from ussd.screens.common import meter_label, meter_name, saved_item

# --- My meters ----------------------------------------------------------------------------------------


@screen
class Meters(ListScreen):
    name = "meters"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("ussd.meters.title")

    def items(self, ctx: Ctx) -> Sequence[Item]:
        return [*map(saved_item, ctx.reader.saved_meters()), Item(ctx.t("ussd.item.add_meter"), None)]

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
        return self.compose(
            ctx,
            ctx.t(
                "ussd.meters.actions",
                name=_saved_name(dict(ctx.data)),
                drn=ctx.data["drn"],
                label=safe_text(ctx.data["label"]),
            ),
        )

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        if text == "1":
            return Go("meters.rename", ctx.data)
        if text == "2":
            return Go("meters.remove", ctx.data)
        return Retry("ussd.err.choice")


@screen
class MeterRename(Screen):
    name = "meters.rename"
    notes = ("ussd.err.name", "ussd.err.name_empty")
    empty_note = "ussd.err.name_empty"

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
    notes = ("ussd.err.name", "ussd.err.name_empty")
    empty_note = "ussd.err.name_empty"

    def render(self, ctx: Ctx) -> str:
        meter = ctx.data["meter"]
        return self.compose(ctx, ctx.t("ussd.meters.add_name", label=meter_label(meter), drn=meter["drn"]))

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        name = meter_name(text)
        if name is None:
            return Retry("ussd.err.name")
        drn = ctx.data["meter"]["drn"]
        return Finish("ussd.meters.saved", {"drn": drn, "name": name}, effects=(SaveMeter(drn, alias=name),))
