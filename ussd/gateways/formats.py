"""The field names and flag values of a typed (latest-input) USSD gateway, as data.

Operators and aggregators that send only the latest input with a message type (Hubtel/Nalo style JSON,
TruRoute style XML) differ mostly in names: `SessionId` or `sessionID`, `Type: "Response"` or
`MSGTYPE: true`, `<type>2</type>`. A `Format` holds those names, so a new operator's variant is an entry
in the USSD_GATEWAY_FORMATS setting (docs/GATEWAYS.md), not a new adapter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ussd.gateways.base import HopKind

ENCODINGS = ("json", "xml")


def flag_text(value: Any) -> str:
    """A type or flag value as comparable text: JSON true and the string "TRUE" both read "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().lower()


@dataclass(frozen=True)
class Format:
    encoding: str  # "json" or "xml"
    # Request fields (JSON keys, or XML child elements of `root`; a GET carries them in the query string).
    session_id: str
    phone: str
    service_code: str
    network: str
    input: str
    type: str
    sequence: str  # "" when the gateway sends no per-request number
    # Message type values per kind, compared with flag_text.
    types: Mapping[str, tuple[str, ...]]
    # Reply: the message field, the continue/end flag field and its two values, fields echoed back.
    message: str
    flag: str
    continue_value: Any
    end_value: Any
    echo: Mapping[str, str] = field(default_factory=dict)  # reply field -> request field to copy back
    root: str = "ussd"  # XML only: the request's and the reply's root element

    def kind_of(self, value: Any) -> HopKind | None:
        wanted = flag_text(value)
        for kind in HopKind:
            if wanted in (flag_text(v) for v in self.types.get(kind.value, ())):
                return kind
        return None


JSON_DEFAULT = Format(
    encoding="json",
    session_id="sessionId",
    phone="msisdn",
    service_code="serviceCode",
    network="network",
    input="userData",
    type="messageType",
    sequence="sequence",
    types={"begin": ("initiation",), "answer": ("response",), "release": ("release",), "timeout": ("timeout",)},
    message="message",
    flag="continueSession",
    continue_value=True,
    end_value=False,
    echo={"sessionId": "sessionId", "msisdn": "msisdn"},
)

XML_DEFAULT = Format(
    encoding="xml",
    session_id="sessionid",
    phone="msisdn",
    service_code="servicecode",
    network="network",
    input="msg",
    type="type",
    sequence="sequence",
    types={"begin": ("1",), "answer": ("2",), "release": ("3",), "timeout": ("4",)},
    message="msg",
    flag="type",
    continue_value="2",
    end_value="3",
    echo={"sessionid": "sessionid", "msisdn": "msisdn"},
    root="ussd",
)

DEFAULTS = {"json": JSON_DEFAULT, "xml": XML_DEFAULT}
_RENAMES = {"continue": "continue_value", "end": "end_value"}  # the config's short names


class FormatError(ValueError):
    """A USSD_GATEWAY_FORMATS entry koronto cannot use; the message names the gateway and the key."""


def format_from_config(name: str, entry: Mapping[str, Any]) -> Format:
    """A gateway's Format: the defaults of its `format` ("json" or "xml") with the entry's keys over them."""
    if not isinstance(entry, Mapping):
        raise FormatError(f"USSD gateway {name!r}: its entry must be a JSON object")
    encoding = entry.get("format", "json")
    if encoding not in DEFAULTS:
        raise FormatError(f"USSD gateway {name!r}: format must be one of {', '.join(ENCODINGS)}")
    known = {f.name for f in fields(Format)} - {"encoding"}
    changes: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "format":
            continue
        attr = _RENAMES.get(key, key)
        if attr not in known:
            raise FormatError(f"USSD gateway {name!r}: unknown key {key!r}")
        if attr == "types":
            if not isinstance(value, Mapping) or set(value) - {k.value for k in HopKind}:
                raise FormatError(f"USSD gateway {name!r}: types maps begin/answer/release/timeout to values")
            value = {kind: tuple(v) if isinstance(v, list | tuple) else (v,) for kind, v in value.items()}
            value = {**DEFAULTS[encoding].types, **value}
        elif attr == "echo":
            if not isinstance(value, Mapping):
                raise FormatError(f"USSD gateway {name!r}: echo maps reply fields to request fields")
            value = {str(k): str(v) for k, v in value.items()}
        elif attr not in ("continue_value", "end_value") and not isinstance(value, str):
            raise FormatError(f"USSD gateway {name!r}: {key} must be a field name (text)")
        changes[attr] = value
    fmt = replace(DEFAULTS[encoding], **changes)
    for required in ("session_id", "phone", "type", "message", "flag"):
        if not getattr(fmt, required):
            raise FormatError(f"USSD gateway {name!r}: {required} cannot be empty")
    return fmt


def formats_from_setting(raw: Any) -> dict[str, Format]:
    """USSD_GATEWAY_FORMATS (a JSON object, or its text) as {gateway name: Format}."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise FormatError("USSD_GATEWAY_FORMATS is not valid JSON") from exc
    if not isinstance(raw, Mapping):
        raise FormatError("USSD_GATEWAY_FORMATS must be a JSON object of gateway name -> format")
    out = {}
    for name, entry in raw.items():
        if not str(name).replace("-", "").replace("_", "").isalnum() or name == "africastalking":
            raise FormatError(f"USSD gateway name {name!r}: letters, digits, - and _ only (not africastalking)")
        out[str(name)] = format_from_config(str(name), entry)
    return out
