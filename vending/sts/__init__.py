"""STS prepaid token engine (IEC 62055-41): pure Python, no Django below this package.

Reference: docs/STS.md (bit layouts, algorithms, pitfalls) and docs/STS_ENGINE.md (this API).

Typical vending call::

    from vending.sts import MeterConfig, credit_token, next_tid, kwh_to_units, decode_token

    meter = MeterConfig(drn="47500150231", sgc="123456", ti=1, krn=1, kt=2, ea="07",
                        dkga="02", vending_key=bytes.fromhex("abababababababab"))
    key = derive_decoder_key(meter)                      # once per meter
    tid = next_tid(now, meter.base_date, last_tid)       # unique per meter: store it
    token = credit_token(meter, units=kwh_to_units("25.5"), tid=tid, rnd=7, decoder_key=key)
    assert decode_token(token.digits, meter, decoder_key=key).units == 255

API:

* ``MeterConfig(pan=… | drn=…[, iin=…], sgc, ti, krn, kt, ea, dkga, base_date, ken,
  vending_key=bytes | decoder_key=bytes)`` frozen, validated; ``from_dict``/``to_dict`` (hex keys).
* ``derive_decoder_key(config) -> bytes``: DKGA02 / DKGA04, or the given decoder key.
* ``credit_token(config, *, units, tid, rnd=0, subclass=0, decoder_key=None) -> Token``
* ``management_token(config, *, subclass, value, tid, rnd=0, decoder_key=None) -> Token``
  (0 max power W, 1 clear credit register, 2 tariff rate, 5 clear tamper, 6 phase unbalance W,
  7 water factor).
* ``test_token(*, subclass, control, mfr_code) -> Token`` (class 1, not encrypted).
* ``key_change_tokens(config, new_config, *, ro=False, decoder_key=None, new_decoder_key=None)
  -> list[Token]``: subclasses 3, 4 (64-bit key) or 3, 4, 8, 9 (128-bit), under the current key.
* ``Token(token_class, subclass, digits, tid)``; ``str(token)`` is the 20 digits.
* ``tid_from_datetime(issued_at, base_date=1993)``, ``next_tid(now, base_date, last_tid)``,
  ``datetime_from_tid``, ``last_minute(base_date)``.
* ``kwh_to_units("25.5") -> 255`` (rounded up, exact), ``encode_amount``, ``decode_amount``,
  ``round_units`` (what the meter will credit).
* ``decode_token(token, config=None, *, decoder_key=None) -> DecodedToken`` (``token_class``,
  ``subclass``, ``fields``, ``tid``, ``units``) or a ``StsError`` child.
* ``VirtualMeter(config, *, tid_depth=20, max_credit=…, mfr_code=None)``: ``enter(token) ->
  EntryResult(display, message, units_added, credit_after, token)``; ``to_dict``/``from_dict``.
* ``drn_is_valid(drn)``, ``pan_from_drn(drn, iin=None)``, ``luhn_check_digit(payload)``.
* Errors: ``StsError`` > ``RequestError`` (> ``CheckDigitError``, ``KeyLengthError``,
  ``UnsupportedError``, ``OutOfRangeError`` > ``TidError``), ``TokenFormatError``, ``CrcError``.

Keys are ``bytes`` and never appear in ``repr``, ``str`` or exception messages.
Command line: ``python -m vending.sts generate|decode|bench`` (JSON lines; see docs/STS.md).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    from vending.sts.amount import MAX_UNITS, decode_amount, encode_amount, kwh_to_units, round_units, units_to_kwh
    from vending.sts.config import MeterConfig
    from vending.sts.decoder import DecodedToken, decode_token
    from vending.sts.dkga import derive_decoder_key
    from vending.sts.errors import (
        CheckDigitError,
        CrcError,
        KeyLengthError,
        OutOfRangeError,
        RequestError,
        StsError,
        TidError,
        TokenFormatError,
        UnsupportedError,
    )
    from vending.sts.identity import drn_is_valid, luhn_check_digit, pan_from_drn
    from vending.sts.meter import Display, EntryResult, VirtualMeter
    from vending.sts.tid import datetime_from_tid, last_minute, next_tid, tid_from_datetime
    from vending.sts.tokens import Token, credit_token, key_change_tokens, management_token, test_token

# The exports load on first use (PEP 562): ``python -m vending.sts generate`` imports this package
# before anything else, and a batch served by the fast path needs only a few of its modules.
_HOME = {
    **dict.fromkeys(("MAX_UNITS", "decode_amount", "encode_amount", "kwh_to_units", "round_units", "units_to_kwh"),
                    "amount"),
    "MeterConfig": "config",
    "DecodedToken": "decoder",
    "decode_token": "decoder",
    "derive_decoder_key": "dkga",
    **dict.fromkeys(("CheckDigitError", "CrcError", "KeyLengthError", "OutOfRangeError", "RequestError", "StsError",
                     "TidError", "TokenFormatError", "UnsupportedError"), "errors"),
    **dict.fromkeys(("drn_is_valid", "luhn_check_digit", "pan_from_drn"), "identity"),
    **dict.fromkeys(("Display", "EntryResult", "VirtualMeter"), "meter"),
    **dict.fromkeys(("datetime_from_tid", "last_minute", "next_tid", "tid_from_datetime"), "tid"),
    **dict.fromkeys(("Token", "credit_token", "key_change_tokens", "management_token", "test_token"), "tokens"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "MAX_UNITS",
    "CheckDigitError",
    "CrcError",
    "DecodedToken",
    "Display",
    "EntryResult",
    "KeyLengthError",
    "MeterConfig",
    "OutOfRangeError",
    "RequestError",
    "StsError",
    "TidError",
    "Token",
    "TokenFormatError",
    "UnsupportedError",
    "VirtualMeter",
    "credit_token",
    "datetime_from_tid",
    "decode_amount",
    "decode_token",
    "derive_decoder_key",
    "drn_is_valid",
    "encode_amount",
    "key_change_tokens",
    "kwh_to_units",
    "last_minute",
    "luhn_check_digit",
    "management_token",
    "next_tid",
    "pan_from_drn",
    "round_units",
    "test_token",
    "tid_from_datetime",
    "units_to_kwh",
]
