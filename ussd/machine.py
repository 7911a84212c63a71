"""The USSD conversation as a pure state machine: (state, input, reader) -> reply, end flag, new state, effects.

No ORM, no settings, no clock, no I/O here. Screens (ussd/screens.py) read what they need through the
`Reader` passed in (saved meters, a meter lookup, a quote, tokens, purchases) and ask for writes by
returning effects (save a meter, create a purchase...), which ussd/effects.py performs after the step.
A test drives the whole menu with an in-memory reader and no database.

The state is a JSON-able dict kept by ussd/sessions.py between hops:
    {"screen": name, "data": {...}, "stack": [[name, data], ...], "lang": "en", "bad": 0}
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
SCREEN_LIMIT = 160  # characters per screen, CON/END included (PROTOCOLS.md §1.2; the tightest gateway)
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
    """Register a screen class under its name (ussd/screens.py uses this as a decorator)."""
    if cls.name in REGISTRY:
        raise ValueError(f"screen {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls


# --- The machine -----------------------------------------------------------------------------------


def new_state(lang: str, screen_name: str = HOME, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"screen": screen_name, "data": dict(data or {}), "stack": [], "lang": lang, "bad": 0}


def start(
    *, lang: str, reader: Reader, resumable: Mapping[str, Any] | None = None, note: str = "",
) -> Step:
    """The first screen of a dial: home, or the offer to go back to where a dropped session stopped.

    `note` is a message key shown on top of that first screen (SESSION_ENDED: the customer answered a
    screen of a session that had already expired, so this is a fresh start and they should know it).
    """
    if resumable and resumable.get("screen") not in (None, HOME, RESUME):
        state = new_state(lang, RESUME, {"saved": dict(resumable)})
    else:
        state = new_state(lang)
    text = render(note, lang) if note else ""
    return Step(reply=_con(_render(state, reader, note=text)), end=False, state=state)


def step(state: Mapping[str, Any], text: str, reader: Reader) -> Step:
    """One hop: the customer answered `text` on the screen `state` describes."""
    current = _valid_state(state)
    text = _clean(text)
    if text == HOME_KEY:
        nxt = {**current, "screen": HOME, "data": {}, "stack": [], "bad": 0}
        return Step(reply=_con(_render(nxt, reader)), end=False, state=nxt)
    if text == BACK_KEY:
        stack = list(current["stack"])
        screen_name, data = stack.pop() if stack else (HOME, {})
        nxt = {**current, "screen": screen_name, "data": data, "stack": stack, "bad": 0}
        return Step(reply=_con(_render(nxt, reader)), end=False, state=nxt)

    ctx = Ctx(lang=current["lang"], data=current["data"], reader=reader)
    screen_now = REGISTRY[current["screen"]]
    outcome = screen_now.handle(ctx, text) if text else Retry(screen_now.empty_note)
    if isinstance(outcome, Retry) and outcome.reason not in screen_now.notes:
        outcome = Retry("ussd.err.choice")  # only reasons the screen was sized (and tested) for
    if isinstance(outcome, Retry):
        bad = current["bad"] + 1
        if bad >= MAX_BAD_INPUTS:
            return Step(reply=_end(render("ussd.too_many_errors", current["lang"])), end=True, state=current)
        nxt = {**current, "bad": bad}
        note = render(outcome.reason, current["lang"], **outcome.values)
        return Step(reply=_con(_render(nxt, reader, note=note)), end=False, state=nxt)
    if isinstance(outcome, Finish):
        values = {k: safe_text(v, 30) for k, v in outcome.values.items()}
        return Step(
            reply=_end(render(outcome.key, current["lang"], **values)),
            end=True, state=current, effects=outcome.effects,
        )
    stack = list(current["stack"])
    if outcome.stack is not None:
        stack = [list(entry) for entry in outcome.stack]
    elif outcome.push:
        stack = [*stack, [current["screen"], current["data"]]][-MAX_STACK:]
    nxt = {
        "screen": outcome.screen, "data": dict(outcome.data), "stack": stack,
        "lang": outcome.lang or current["lang"], "bad": 0,
    }
    return Step(reply=_con(_render(nxt, reader)), end=False, state=nxt, effects=outcome.effects)


def _render(state: Mapping[str, Any], reader: Reader, note: str = "") -> str:
    ctx = Ctx(lang=state["lang"], data=state["data"], reader=reader, note=note)
    return REGISTRY[state["screen"]].render(ctx)


def _valid_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A stored state we can trust; anything odd (old format, unknown screen) restarts at home."""
    try:
        if state["screen"] in REGISTRY and isinstance(state["data"], dict) and isinstance(state["stack"], list):
            return {"screen": state["screen"], "data": state["data"], "stack": state["stack"],
                    "lang": str(state["lang"]), "bad": int(state["bad"])}
    except (KeyError, TypeError, ValueError):
        pass
    return new_state(str(state.get("lang", "en")) if isinstance(state, Mapping) else "en")


def _clean(text: str) -> str:
    """Keep what a keypad can send; an over-long or control-laden input is simply not a valid answer."""
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[: MAX_INPUT_LENGTH + 1]


def fit_body(body: str) -> str:
    # Screens are sized to fit; this is the last guard so a surprise never produces an invalid reply.
    body = transliterate(body)
    return body if len(body) <= SCREEN_LIMIT - 4 else body[: SCREEN_LIMIT - 4]


# A screen and an ending are both just fitted text here: how "continue" and "end" are written on the wire
# (CON/END prefixes, a JSON flag, an XML type) is the gateway adapter's business (ussd/gateways/).
def _con(body: str) -> str:
    return fit_body(body)


def _end(body: str) -> str:
    return fit_body(body)




# The screens register themselves into REGISTRY; importing them here means `step` always has them.
from ussd import screens as _screens  # noqa: E402, F401
