"""Class-bit transposition (§6.4.2) and 20-digit rendering of the 66-bit token number."""

from __future__ import annotations

from vending.sts.errors import TokenFormatError

_BITS_27_28 = 0b11 << 27
_LOW64 = (1 << 64) - 1
MAX_TOKEN = (1 << 66) - 1


def insert_class(token_class: int, enc: int) -> int:
    """66-bit number: encrypted bits 28 and 27 move up to 65 and 64; the class takes their place."""
    return ((enc & _BITS_27_28) << 37) | (enc & ~_BITS_27_28) | (token_class << 27)


def extract_class(t66: int) -> tuple[int, int]:
    """Inverse of :func:`insert_class`: ``(class, encrypted 64-bit block)``."""
    return (t66 >> 27) & 0b11, (t66 & _LOW64 & ~_BITS_27_28) | ((t66 >> 37) & _BITS_27_28)


def render(t66: int) -> str:
    """The token as exactly 20 decimal digits, leading zeros kept."""
    return f"{t66:020d}"


def parse(token: str) -> int:
    """The 66-bit number of a typed token; spaces and dashes between digit groups are ignored."""
    digits = token.replace(" ", "").replace("-", "") if not token.isdigit() else token
    if len(digits) != 20 or not digits.isdigit() or not digits.isascii():
        raise TokenFormatError(f"a token is exactly 20 digits; got {len(digits)} characters")
    value = int(digits)
    if value > MAX_TOKEN:
        raise TokenFormatError("the token's value is 2^66 or more, which no token can have")
    return value
