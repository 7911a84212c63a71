"""Home, resuming a dropped session, and the language menu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ussd.conversation import (
    HOME,
    RESUME,
    SESSION_ENDED,
    Ctx,
    Go,
    Item,
    ListScreen,
    Outcome,
    Retry,
    Screen,
    SetLanguage,
    screen,
)
from ussd.screens.common import LANGUAGES

# --- Home, resume, language ------------------------------------------------------------------------


@screen
class Home(ListScreen):
    name = HOME
    show_nav = False
    notes = ("ussd.err.choice", SESSION_ENDED)

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
    notes = ("ussd.err.choice", SESSION_ENDED)

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
