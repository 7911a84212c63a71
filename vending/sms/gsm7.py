"""GSM-7 (3GPP TS 23.038): charset check, transliteration and splitting into single-SMS parts.

One non-GSM-7 character switches a whole SMS (or USSD screen) to UCS-2 and halves its budget, so texts
are transliterated before sending. Extension-table characters cost two septets (escape + char).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("^{}\\[~]|€\f")
SMS_SEPTETS = 160

# Common characters that phones, translators and copy-paste put into our catalogue.
_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "«": '"',
    "»": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u2022": "*",
    "·": ".",
    "\u00d7": "x",
    "÷": "/",
    "\u2122": "TM",
    "©": "(c)",
    "®": "(R)",
    "ç": "Ç",
    "\u200b": "",
    "\ufeff": "",
}


# Every character GSM-7 can send as it is: one set, so a whole text is checked in one C-level call.
_SENDABLE = BASIC | EXTENSION


def is_gsm7(text: str) -> bool:
    return _SENDABLE.issuperset(text)


def septets(text: str) -> int:
    """Length in septets; raises ValueError for characters outside GSM-7."""
    total = 0
    for char in text:
        if char in BASIC:
            total += 1
        elif char in EXTENSION:
            total += 2
        else:
            raise ValueError(f"not GSM-7: {char!r}")
    return total


def transliterate(text: str, unknown: str = "?") -> str:
    """Map ``text`` into GSM-7: fixed replacements, then accents stripped, then ``unknown``."""
    if _SENDABLE.issuperset(text):  # the usual case (every USSD screen, issue 18): nothing to map
        return text
    out: list[str] = []
    for char in text:
        if char in BASIC or char in EXTENSION:
            out.append(char)
            continue
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
            continue
        # "á" -> "a" + combining accent: keep the base letter if it is GSM-7.
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if base and is_gsm7(base) else unknown)
    return "".join(out)


def split(text: str, limit: int = SMS_SEPTETS) -> list[str]:
    """Split GSM-7 ``text`` into parts of at most ``limit`` septets, each sent as its own SMS.

    Breaks after the last newline or space that fits, so words (and a space-grouped token) stay whole
    where possible; a single run longer than ``limit`` is cut hard. Raises ValueError on non-GSM-7 text
    (call :func:`transliterate` first).
    """
    if limit < 2:
        raise ValueError("limit must allow an extension character")
    septets(text)  # validate once
    return split_by_cost(text, limit, cost=lambda char: 2 if char in EXTENSION else 1)


def split_by_cost(text: str, limit: int, *, cost: Callable[[str], int]) -> list[str]:
    """Split `text` into parts whose characters cost at most `limit` in all (septets for GSM-7, UTF-16 units
    for UCS-2), breaking after the last space or newline that fits; a run longer than `limit` is cut hard,
    never inside one character."""
    parts: list[str] = []
    rest = text
    while rest:
        used, cut, last_break = 0, 0, -1
        for i, char in enumerate(rest):
            char_cost = cost(char)
            if used + char_cost > limit:
                break
            used += char_cost
            cut = i + 1
            if char in " \n":
                last_break = i + 1
        else:
            parts.append(rest)
            break
        if last_break > 0:
            cut = last_break
        parts.append(rest[:cut].rstrip(" \n"))
        rest = rest[cut:].lstrip(" \n")
    return [p for p in parts if p]
