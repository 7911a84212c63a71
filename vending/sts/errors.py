"""The engine's error vocabulary: one base class, one child per kind of failure.

Messages are sentences a utility engineer understands. They never contain key material: callers
pass keys around as bytes and nothing here formats them.
"""

from __future__ import annotations


class StsError(Exception):
    """Base class of every error raised by ``vending.sts``."""


class RequestError(StsError, ValueError):
    """A request or meter configuration value is malformed or missing."""


class CheckDigitError(RequestError):
    """A PAN or DRN whose Luhn check digit does not match."""


class KeyLengthError(RequestError):
    """A vending or decoder key of the wrong length for its algorithm."""


class UnsupportedError(RequestError):
    """An unknown or unsupported EA, DKGA, token class or subclass."""


class OutOfRangeError(RequestError):
    """A value outside the range its token field can carry (amount, RND, TID, ...)."""


class TidError(OutOfRangeError):
    """A TID outside 24 bits: an issue time before the base date or after its last minute."""


class TokenFormatError(StsError):
    """A token that is not 20 digits or whose value is 2^66 or more."""


class CrcError(StsError):
    """The CRC does not match: the token was made with another key, or a digit was mistyped."""
