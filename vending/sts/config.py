"""MeterConfig: everything the vending side knows about one decoder (meter).

Validation happens once, in ``__post_init__``, so every other module can trust a config. Keys are
``bytes`` and stay out of ``repr`` (and therefore out of logs and exception messages).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from vending.sts.errors import KeyLengthError, RequestError, UnsupportedError
from vending.sts.identity import check_pan, drn_of_pan, pan_from_drn
from vending.sts.tid import BASE_DATES

EAS = ("07", "09", "11")
DKGAS = ("02", "04")
VENDING_KEY_BYTES = {"02": 8, "04": 20}
# Key types (§6.5.2): DITK initialization, DDTK default, DUTK unique, DCTK common.
KEY_TYPES = {0: "DITK", 1: "DDTK", 2: "DUTK", 3: "DCTK"}


def decoder_key_bytes(ea: str) -> int:
    """Decoder key length for an EA: 16 bytes for MISTY1 (EA11), 8 for STA and DEA."""
    return 16 if ea == "11" else 8


def _int_field(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    if not low <= value <= high:
        raise RequestError(f"{name} {value} is outside {low}..{high}")
    return value


def _code(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    # Accept 7 or "7" as well as "07": a JSON writer may drop the leading zero.
    text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else value
    if text not in allowed:
        raise UnsupportedError(f"unknown {name} {value!r}: supported are {', '.join(allowed)}")
    return text


def parse_hex_key(name: str, value: Any) -> bytes:
    """Key bytes from a hex string; the message never repeats the key."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str):
        raise RequestError(f"{name} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise RequestError(f"{name} is not valid hex") from None


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """A decoder's configuration. Give ``pan``, or ``drn`` (+ ``iin``); and a key (see below).

    ``vending_key`` (8 bytes for DKGA02, 20 for DKGA04) derives the decoder key; ``decoder_key``
    (8 bytes, or 16 for EA11) skips the derivation. ``ken`` only travels in key-change tokens.
    """

    pan: str | None = None
    drn: str | None = None
    iin: str | None = None
    sgc: str = "000000"
    ti: int = 1
    krn: int = 1
    kt: int = 2
    ea: str = "07"
    dkga: str | None = None
    base_date: int = 1993
    ken: int = 255
    vending_key: bytes | None = field(default=None, repr=False)
    decoder_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.pan is not None:
            set_(self, "pan", check_pan(self.pan))
        elif self.drn is not None:
            set_(self, "pan", pan_from_drn(self.drn, self.iin))
        sgc = self.sgc
        if isinstance(sgc, int) and not isinstance(sgc, bool):
            sgc = f"{sgc:06d}"
        if not isinstance(sgc, str) or len(sgc) != 6 or not sgc.isdigit() or not sgc.isascii():
            raise RequestError(f"sgc must be a 6-digit supply group code, not {self.sgc!r}")
        set_(self, "sgc", sgc)
        _int_field("ti", self.ti, 0, 99)
        _int_field("krn", self.krn, 1, 9)
        _int_field("kt", self.kt, 0, 3)
        _int_field("ken", self.ken, 0, 255)
        if self.base_date not in BASE_DATES:
            raise RequestError(f"base_date must be 1993, 2014 or 2035, not {self.base_date!r}")
        set_(self, "ea", _code("ea", self.ea, EAS))
        if self.decoder_key is not None:
            want = decoder_key_bytes(self.ea)
            if len(self.decoder_key) != want:
                raise KeyLengthError(
                    f"decoder_key has {len(self.decoder_key)} bytes; EA{self.ea} needs {want} ({want * 2} hex digits)"
                )
        dkga = self.dkga
        if dkga is not None:
            dkga = _code("dkga", dkga, DKGAS)
        elif self.vending_key is not None:
            # No DKGA named: the key length tells which one (16 hex digits → 02, 40 → 04).
            dkga = {8: "02", 20: "04"}.get(len(self.vending_key))
            if dkga is None:
                raise KeyLengthError(
                    f"vending_key has {len(self.vending_key)} bytes: DKGA02 takes 8 (16 hex digits), "
                    "DKGA04 takes 20 (40 hex digits)"
                )
        set_(self, "dkga", dkga)
        if self.vending_key is not None and dkga is not None:
            want = VENDING_KEY_BYTES[dkga]
            if len(self.vending_key) != want:
                raise KeyLengthError(
                    f"vending_key has {len(self.vending_key)} bytes; DKGA{dkga} takes {want} ({want * 2} hex digits)"
                )
            if dkga == "02" and self.ea == "11" and self.decoder_key is None:
                raise UnsupportedError("EA11 needs a 128-bit decoder key; DKGA02 gives 64 bits: use DKGA04")

    @property
    def drn_digits(self) -> str | None:
        """The DRN printed on the meter (from the PAN)."""
        return None if self.pan is None else drn_of_pan(self.pan)

    def replace(self, **changes: Any) -> MeterConfig:
        """A copy with ``changes`` applied and validated (``pan`` recomputed if ``drn`` changes)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeterConfig:
        """A config from its JSON form (the CLI's ``meter`` object); keys are hex strings."""
        if not isinstance(data, dict):
            raise RequestError("meter must be a JSON object")
        # Unknown fields are ignored: a request may carry notes for other tools.
        kwargs = {name: value for name, value in data.items() if name in _FIELDS}
        if "vending_key" in kwargs:
            kwargs["vending_key"] = parse_hex_key("vending_key", kwargs["vending_key"])
        if "decoder_key" in kwargs:
            kwargs["decoder_key"] = parse_hex_key("decoder_key", kwargs["decoder_key"])
        if "pan" in kwargs and ("drn" in kwargs or "iin" in kwargs):
            # A PAN wins; the DRN it contains is implied.
            kwargs.pop("drn", None)
            kwargs.pop("iin", None)
        return cls(**kwargs)

    def to_dict(self, *, include_keys: bool = True) -> dict[str, Any]:
        """JSON-safe form (keys as hex). Pass ``include_keys=False`` for anything that is logged."""
        out: dict[str, Any] = {
            "pan": self.pan,
            "sgc": self.sgc,
            "ti": self.ti,
            "krn": self.krn,
            "kt": self.kt,
            "ea": self.ea,
            "base_date": self.base_date,
            "ken": self.ken,
        }
        if self.dkga is not None:
            out["dkga"] = self.dkga
        if include_keys:
            if self.vending_key is not None:
                out["vending_key"] = self.vending_key.hex()
            if self.decoder_key is not None:
                out["decoder_key"] = self.decoder_key.hex()
        return out


_FIELDS = frozenset(f.name for f in dataclasses.fields(MeterConfig))
