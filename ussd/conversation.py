"""What the USSD machine and its screens share: the values a screen reads, the effects and outcomes it returns, and
the Screen classes with their registry.

Kept apart from ussd/machine.py (which runs a state through the registry) so that the screens in ussd/screens/ can
import this vocabulary and the machine can import the screens, with no import running back up. Pure like the
machine: no ORM, no settings, no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from vending.i18n import render
from vending.sms.gsm7 import transliterate

HOME = "home"
RESUME = "resume"
BACK_KEY = "0"
HOME_KEY = "00"
MORE_KEY = "98"
MAX_BAD_INPUTS = 3
MAX_ITEMS_PER_PAGE = 7
MAX_STACK = 12
SCREEN_LIMIT = 160  # characters per screen, CON/END included (docs/PROTOCOLS.md §1.2; the tightest gateway)
SESSION_ENDED = "ussd.session_ended"
MAX_INPUT_LENGTH = 64  # anything longer is not an answer to any of our questions


# --- What screens read (values only, so sessions stay JSON and tests need no database) -------------


@dataclass(frozen=True)
class SavedMeter:
    drn: str
    alias: str
    label: str


@dataclass(frozen=True)
class MeterInfo:
    drn: str
    label: str
    active: bool
    currency: str
    min_amount: str
    max_amount: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeterInfo:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class QuoteInfo:
    amount: str
    currency: str
    kwh: str
    vat: str
    fixed_charge: str
    debt_recovery: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class QuoteRefused:
    """The tariff will not sell this amount; `key` and `values` say why (a vending.i18n message)."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenInfo:
    reference: str
    digits: str  # grouped "1234 5678 ..."
    units: str


@dataclass(frozen=True)
class PurchaseInfo:
    reference: str
    amount: str
    currency: str
    meter_name: str
    state: str
    date: str  # "24/11 10:02", local time, formatted by the reader


class Reader(Protocol):
    """The data a conversation may look at; bound to the dialling phone by the caller."""

    def saved_meters(self) -> Sequence[SavedMeter]: ...

    def find_meter(self, drn: str) -> MeterInfo | None: ...

    def quote(self, drn: str, amount: str) -> QuoteInfo | QuoteRefused | None: ...

    def wallets(self, currency: str) -> Sequence[str]: ...

    def last_tokens(self, drn: str) -> Sequence[TokenInfo]: ...

    def recent_purchases(self) -> Sequence[PurchaseInfo]: ...


# --- What screens ask for (performed by ussd/effects.py after the step) -----------------------------


@dataclass(frozen=True)
class SaveMeter:
    drn: str
    alias: str = ""
    best_effort: bool = False  # a failure must not end the conversation (the save offer while buying)


@dataclass(frozen=True)
class RemoveMeter:
    drn: str


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class CreatePurchase:
    drn: str
    amount: str
    wallet: str


@dataclass(frozen=True)
class ResendToken:
    reference: str


Effect = SaveMeter | RemoveMeter | SetLanguage | CreatePurchase | ResendToken


# --- What a screen's handler returns ---------------------------------------------------------------


@dataclass(frozen=True)
class Go:
    """Show `screen` next (pushing the current one for "0 back" unless push=False)."""

    screen: str
    data: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    push: bool = True
    lang: str | None = None
    stack: Sequence[Any] | None = None  # replaces the back stack (resuming a dropped session)


@dataclass(frozen=True)
class Retry:
    """Bad input: show the same screen again with a short reason."""

    reason: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    """End the session with a message."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[Effect, ...] = ()


Outcome = Go | Retry | Finish


@dataclass(frozen=True)
class Step:
    reply: str  # the screen's text; the gateway adapter renders "continue" or "end" from `end`
    end: bool
    state: dict[str, Any]
    effects: tuple[Effect, ...] = ()


# --- Screens ---------------------------------------------------------------------------------------


def safe_text(value: object, limit: int = 20) -> str:
    """A value from the database or the customer, made GSM-7 and short enough for a screen."""
    text = " ".join(transliterate(str(value)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "."


@dataclass
class Ctx:
    """What a screen sees: the language, its own data, the reader and (on a re-prompt) the reason."""

    lang: str
    data: Mapping[str, Any]
    reader: Reader
    note: str = ""

    def t(self, key: str, **values: object) -> str:
        return render(key, self.lang, **values)


class Screen:
    name = ""
    show_nav = True  # the "0 Back 00 Home" line
    # Every reason the handler may give for a re-prompt (tests/ussd/test_screens_fit.py renders each one).
    notes: tuple[str, ...] = ("ussd.err.choice",)
    # The re-prompt for an empty answer (the customer pressed send without typing): one of `notes`.
    empty_note = "ussd.err.choice"

    def render(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        raise NotImplementedError

    # Helpers for simple screens: body lines, then the reason for a re-prompt on top, nav at the bottom.
    def compose(self, ctx: Ctx, body: str) -> str:
        lines = [ctx.note] if ctx.note else []
        lines.append(body)
        if self.show_nav:
            lines.append(ctx.t("ussd.nav"))
        return "\n".join(lines)


@dataclass(frozen=True)
class Item:
    label: str
    value: Any


class ListScreen(Screen):
    """A numbered list, paginated with "98 More" when it has more than 7 items or does not fit.

    A re-prompt's reason replaces the title, so pages are cut to leave room for the longest of `notes`
    (every reason the screen's handler may give) and stay the same on every hop.
    """

    def title(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def items(self, ctx: Ctx) -> Sequence[Item]:
        raise NotImplementedError

    def choose(self, ctx: Ctx, value: Any) -> Outcome:
        raise NotImplementedError

    def empty(self, ctx: Ctx) -> str | None:
        """Text shown instead of an empty list (None: the list is never empty)."""
        return None

    def render(self, ctx: Ctx) -> str:
        items = self.items(ctx)
        if not items and self.empty(ctx) is not None:
            return self.compose(ctx, self.empty(ctx) or "")
        title = self.title(ctx)
        pages = self._pages(ctx, title, [item.label for item in items])
        page = min(int(ctx.data.get("page", 0)), len(pages) - 1)
        start, stop = pages[page]
        lines = [ctx.note or title]
        lines += [f"{n + 1}. {items[n].label}" for n in range(start, stop)]
        if page + 1 < len(pages):
            lines.append(ctx.t("ussd.more"))
        if self.show_nav:
            lines.append(ctx.t("ussd.nav"))
        return "\n".join(lines)

    def handle(self, ctx: Ctx, text: str) -> Outcome:
        items = self.items(ctx)
        if text == MORE_KEY:
            pages = self._pages(ctx, self.title(ctx), [item.label for item in items])
            page = int(ctx.data.get("page", 0))
            if page + 1 < len(pages):
                return Go(self.name, {**ctx.data, "page": page + 1})
            return Retry("ussd.err.choice")
        # isascii: "¹" and "٣" are str.isdigit() but not keypad digits (and int() refuses the first).
        if text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= len(items):
            return self.choose(ctx, items[int(text) - 1].value)
        return Retry("ussd.err.choice")

    def _pages(self, ctx: Ctx, title: str, labels: Sequence[str]) -> list[tuple[int, int]]:
        """Split items into pages that fit, the same way on every hop (re-prompt notes replace the title)."""
        header = max(len(title), *(len(ctx.t(key)) for key in self.notes))
        nav = len(ctx.t("ussd.nav")) + 1 if self.show_nav else 0
        more = len(ctx.t("ussd.more")) + 1
        budget = SCREEN_LIMIT - len("CON ") - header - nav
        pages: list[tuple[int, int]] = []
        start = 0
        while start < len(labels) or not pages:
            used, stop = 0, start
            while stop < len(labels) and stop - start < MAX_ITEMS_PER_PAGE:
                line = len(f"\n{stop + 1}. {labels[stop]}")
                reserve = more if stop + 1 < len(labels) else 0
                if used + line + reserve > budget and stop > start:
                    break
                used += line
                stop += 1
            pages.append((start, stop))
            if stop == start:
                break
            start = stop
        return pages


REGISTRY: dict[str, Screen] = {}


def screen(cls: type[Screen]) -> type[Screen]:
    """Register a screen class under its name (the modules of ussd/screens/ use this as a decorator)."""
    if cls.name in REGISTRY:
        raise ValueError(f"screen {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls
