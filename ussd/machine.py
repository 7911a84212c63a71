"""The USSD conversation as a pure state machine: (state, input, reader) -> reply, end flag, new state, effects.

No ORM, no settings, no clock, no I/O here. The screens (ussd/screens/, one module per menu) read what they need
through the `Reader` passed in (saved meters, a meter lookup, a quote, tokens, purchases) and ask for writes by
returning effects (save a meter, create a purchase...), which ussd/effects.py performs after the step. The values,
effects, outcomes and the Screen classes they share are in ussd/conversation.py. A test drives the whole menu
with an in-memory reader and no database.

The state is a JSON-able dict kept by ussd/sessions.py between hops:
    {"screen": name, "data": {...}, "stack": [[name, data], ...], "lang": "en", "bad": 0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ussd.screens  # noqa: F401  (importing the package registers every screen into REGISTRY)
from ussd.conversation import (
    BACK_KEY,
    HOME,
    HOME_KEY,
    MAX_BAD_INPUTS,
    MAX_INPUT_LENGTH,
    MAX_STACK,
    REGISTRY,
    RESUME,
    SCREEN_LIMIT,
    Ctx,
    Finish,
    Reader,
    Retry,
    Step,
    safe_text,
)
from vending.i18n import render
from vending.sms.gsm7 import transliterate


def new_state(lang: str, screen_name: str = HOME, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"screen": screen_name, "data": dict(data or {}), "stack": [], "lang": lang, "bad": 0}


def start(
    *,
    lang: str,
    reader: Reader,
    resumable: Mapping[str, Any] | None = None,
    note: str = "",
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
            end=True,
            state=current,
            effects=outcome.effects,
        )
    stack = list(current["stack"])
    if outcome.stack is not None:
        stack = [list(entry) for entry in outcome.stack]
    elif outcome.push:
        stack = [*stack, [current["screen"], current["data"]]][-MAX_STACK:]
    nxt = {
        "screen": outcome.screen,
        "data": dict(outcome.data),
        "stack": stack,
        "lang": outcome.lang or current["lang"],
        "bad": 0,
    }
    return Step(reply=_con(_render(nxt, reader)), end=False, state=nxt, effects=outcome.effects)


def _render(state: Mapping[str, Any], reader: Reader, note: str = "") -> str:
    ctx = Ctx(lang=state["lang"], data=state["data"], reader=reader, note=note)
    return REGISTRY[state["screen"]].render(ctx)


def _valid_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A stored state we can trust; anything odd (old format, unknown screen) restarts at home."""
    try:
        if state["screen"] in REGISTRY and isinstance(state["data"], dict) and isinstance(state["stack"], list):
            return {
                "screen": state["screen"],
                "data": state["data"],
                "stack": state["stack"],
                "lang": str(state["lang"]),
                "bad": int(state["bad"]),
            }
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
