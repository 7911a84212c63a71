"""The JSON-lines request forms of the command line (docs/STS.md, "command-line contract").

One function per direction turns a parsed request into its result dict or raises a StsError.
Kept apart from ``cli.py`` so tests and other callers can serve requests without any I/O.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from vending.sts.amount import kwh_to_units
from vending.sts.config import MeterConfig, parse_hex_key
from vending.sts.decoder import decode_token
from vending.sts.dkga import derive_decoder_key
from vending.sts.errors import RequestError, UnsupportedError
from vending.sts.tid import check_tid, minutes_since_base, parse_issued_at
from vending.sts.tokens import (
    CREDIT,
    MANAGEMENT,
    MANAGEMENT_VALUES,
    TEST,
    Token,
    credit_token,
    key_change_tokens,
    management_token,
    test_token,
)

_NEW_FIELDS = ("sgc", "ti", "krn", "kt", "ken", "base_date", "vending_key", "decoder_key", "dkga")


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestError(f"{name} must be a JSON object")
    return value


def _tid(token: dict[str, Any], config: MeterConfig) -> int:
    if "tid" in token:
        tid = token["tid"]
        if isinstance(tid, bool) or not isinstance(tid, int):
            raise RequestError(f"tid must be a whole number, not {tid!r}")
        return check_tid(tid, config.base_date)
    if "issued_at" in token:
        issued_at = token["issued_at"]
        if not isinstance(issued_at, str):
            raise RequestError("issued_at must be a string YYYY-MM-DDTHH:MM")
        return check_tid(minutes_since_base(parse_issued_at(issued_at), config.base_date), config.base_date)
    raise RequestError("the token needs a tid or an issued_at time")


def _units(token: dict[str, Any]) -> int:
    if "units" in token:
        return token["units"]
    if "kwh" in token:
        kwh = token["kwh"]
        if isinstance(kwh, float):
            kwh = Decimal(repr(kwh))
        return kwh_to_units(kwh)
    raise RequestError("a credit token needs units (0.1 kWh) or kwh (a decimal string)")


def _result(tokens: list[Token], **extra: Any) -> dict[str, Any]:
    return {
        "tokens": [{"class": t.token_class, "subclass": t.subclass, "token": t.digits} for t in tokens],
        **extra,
    }


def _key_change(meter: dict[str, Any], config: MeterConfig, spec: dict[str, Any]) -> dict[str, Any]:
    spec = _object(spec, "key_change")
    new = _object(spec.get("new", {}), "key_change.new")
    ro = spec.get("ro", 0)
    if ro not in (0, 1) or isinstance(ro, float):
        raise RequestError(f"ro must be 0 or 1, not {ro!r}")
    old_key = derive_decoder_key(config)
    changes: dict[str, Any] = {name: new[name] for name in _NEW_FIELDS if name in new}
    for name in ("vending_key", "decoder_key"):
        if name in changes:
            changes[name] = parse_hex_key(f"new {name}", changes[name])
    if "decoder_key" not in changes:
        # A new vending key (or new settings under the same one) means deriving afresh.
        changes["decoder_key"] = None
        if "vending_key" in changes and "dkga" not in changes:
            changes["dkga"] = None
        if changes.get("vending_key", config.vending_key) is None:
            raise RequestError("key_change.new needs a decoder_key, or a vending_key to derive it from")
    new_config = config.replace(**changes)
    new_key = derive_decoder_key(new_config)
    tokens = key_change_tokens(config, new_config, ro=bool(ro), decoder_key=old_key, new_decoder_key=new_key)
    return _result(tokens, decoder_key=old_key.hex(), new_decoder_key=new_key.hex())


def _whole(token: dict[str, Any], name: str, default: int | None = None) -> Any:
    """A field that must be a JSON integer (not a bool, a float or a string) when present."""
    value = token.get(name, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        shown = value if isinstance(value, Decimal) else json.dumps(value)  # as the request spelled it
        raise RequestError(f"{name} must be a whole number, not {shown}")
    return value


def generate(request: Any) -> dict[str, Any]:
    """Serve one ``generate`` request: ``{"meter": {...}, "token": {...}}`` → result dict."""
    request = _object(request, "the request")
    token = _object(request.get("token"), "token")
    meter = _object(request.get("meter", {}), "meter")
    if "key_change" in token:
        return _key_change(meter, MeterConfig.from_dict(meter), token["key_change"])
    token_class = token.get("class")
    subclass = _whole(token, "subclass", 0)
    if token_class == TEST:
        made = test_token(subclass=subclass, control=_whole(token, "control", 0), mfr_code=_whole(token, "mfr_code", 0))
        return _result([made])
    if token_class not in (CREDIT, MANAGEMENT) or isinstance(token_class, bool):
        raise UnsupportedError(f"token class {token_class!r} is not supported (0 credit, 1 test, 2 management)")
    config = MeterConfig.from_dict(meter)
    key = derive_decoder_key(config)
    tid = _tid(token, config)
    rnd = _whole(token, "rnd", 0)
    if token_class == CREDIT:
        made = credit_token(config, units=_units(token), tid=tid, rnd=rnd, subclass=subclass, decoder_key=key)
    else:
        name = MANAGEMENT_VALUES.get(subclass)
        if name is None:
            raise UnsupportedError(
                f"management subclass {subclass!r} is not supported (0, 1, 2, 5, 6, 7, or a key_change)"
            )
        value = _whole(token, name, 0 if name == "pad" else None)
        if value is None:
            raise RequestError(f"management subclass {subclass} needs {name}")
        made = management_token(config, subclass=subclass, value=value, tid=tid, rnd=rnd, decoder_key=key)
    return _result([made], decoder_key=key.hex(), tid=tid)


def decode(request: Any) -> dict[str, Any]:
    """Serve one ``decode`` request: ``{"meter": {...}, "token": "..."}`` → fields dict."""
    request = _object(request, "the request")
    token = request.get("token")
    if not isinstance(token, str):
        raise RequestError("token must be a string of 20 digits")
    meter = _object(request.get("meter", {}), "meter")
    config = MeterConfig.from_dict(meter) if meter else None
    return decode_token(token, config).as_dict()
