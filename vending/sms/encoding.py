"""How a text travels as SMS: GSM-7 where the text allows, UCS-2 otherwise, and how many segments it costs.

GSM-7 (3GPP TS 23.038) packs 160 septets into one SMS, 153 per segment once the message is concatenated
(the user-data header takes the rest). UCS-2 carries any Basic Multilingual Plane character but only
70 UTF-16 code units per SMS, 67 per concatenated segment; a character outside the BMP (an emoji) takes
two units. Gateways and operators bill per segment, so the segment count is what a message costs.

`prepare` first tries to keep a text in GSM-7: typographic quotes, dashes and accented Latin letters have
GSM-7 stand-ins (`gsm7.transliterate`). Only a text with a character that has no stand-in (Arabic script,
CJK, an emoji) goes out as UCS-2, unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from . import gsm7

GSM7_SINGLE, GSM7_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_SEGMENT = 70, 67
_UNMAPPED = "\x00"  # never in our texts: marks a character transliteration could not map


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


class Prepared(NamedTuple):
    text: str
    encoding: Encoding


def prepare(text: str) -> Prepared:
    """The text as it will be sent and the encoding it needs."""
    mapped = gsm7.transliterate(text, unknown=_UNMAPPED)
    if _UNMAPPED not in mapped:
        return Prepared(mapped, Encoding.GSM7)
    return Prepared(text, Encoding.UCS2)


def encoding_of(text: str) -> Encoding:
    """The encoding a gateway must use for `text` as it stands (no transliteration)."""
    return Encoding.GSM7 if gsm7.is_gsm7(text) else Encoding.UCS2


def units(text: str, encoding: Encoding) -> int:
    """Length in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == Encoding.GSM7:
        return gsm7.septets(text)
    return len(text.encode("utf-16-be")) // 2


def segments(text: str, encoding: Encoding | None = None) -> int:
    """How many SMS segments `text` takes in `encoding` (its own encoding when not given)."""
    encoding = encoding or encoding_of(text)
    length = units(text, encoding)
    single, segment = (GSM7_SINGLE, GSM7_SEGMENT) if encoding == Encoding.GSM7 else (UCS2_SINGLE, UCS2_SEGMENT)
    if length <= single:
        return 1
    return -(-length // segment)


def single_limit(encoding: Encoding) -> int:
    return GSM7_SINGLE if encoding == Encoding.GSM7 else UCS2_SINGLE


def split_ucs2(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` UTF-16 units, after the last space or newline that fits.

    A surrogate pair (an emoji) is never cut in two; a run longer than `limit` is cut hard."""
    return gsm7.split_by_cost(text, limit, cost=lambda char: 2 if ord(char) > 0xFFFF else 1)
