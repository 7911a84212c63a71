"""A virtual meter: a stateful simulated decoder that answers like a real keypad (§7.3, §12).

It holds a decoder key, credit registers, the last N accepted TIDs and the key-change sections
received so far. ``enter(token)`` returns the display result code a meter would show. The state
round-trips through ``to_dict()``/``from_dict()`` (JSON-safe, key included, for the caller to
encrypt at rest); ``repr`` never shows the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vending.sts.amount import units_to_kwh
from vending.sts.config import MeterConfig, decoder_key_bytes
from vending.sts.decoder import DecodedToken, body_fields, decode_block
from vending.sts.dkga import derive_decoder_key
from vending.sts.errors import CrcError, RequestError, StsError, TokenFormatError
from vending.sts.tokens import CREDIT, CREDIT_SUBCLASSES, TEST

DEFAULT_TID_DEPTH = 20
# The register's capacity in 0.1 units (9 999 999.9 kWh): a six-digit-plus display's limit.
DEFAULT_MAX_CREDIT = 99_999_999
_NEXT_BASE_DATE = {1993: 2014, 2014: 2035}
_REGISTER_NAMES = {0: "electricity", 1: "water", 2: "gas", 3: "time"}
_UNIT = {0: "kWh", 1: "m³", 2: "m³", 3: "h"}


class Display(StrEnum):
    """Meter display result codes (Conlog BEC62 "STS token result")."""

    ACCEPT = "Accept"
    KCT1 = "1stKCT"
    KCT2 = "2ndKCT"
    USED = "Used"
    OLD = "Old"
    KEY_EXPIRED = "Key expired"
    CRC_ERROR = "CRC error"
    FORMAT = "Format"
    RANGE = "Range"
    OVERFLOW = "Overflow"
    KEY_TYPE_ERROR = "Key type error"
    DDTK = "DDTK"
    MFR_CODE_ERROR = "Mfr code error"
    FUNCTION = "Function"


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What entering one token did: display code, a sentence, units added and credit after."""

    display: Display
    message: str
    units_added: int = 0
    credit_after: int = 0
    token: DecodedToken | None = None

    @property
    def accepted(self) -> bool:
        return self.display in (Display.ACCEPT, Display.KCT1, Display.KCT2)


def _kt_change_allowed(current: int, new: int) -> bool:
    # Our reading of the KT rules: a meter never goes back to the factory key types (DITK 0,
    # DDTK 1) once it holds a unique or common key; any other change is allowed.
    return not (current in (2, 3) and new in (0, 1))


class VirtualMeter:
    """A simulated STS meter for one decoder configuration.

    ``config`` gives the identity and key (a ``decoder_key``, or a vending key to derive it).
    ``mfr_code`` defaults to the DRN's manufacturer digits (2 for 11-digit DRNs, 4 for 13).
    """

    def __init__(
        self,
        config: MeterConfig,
        *,
        tid_depth: int = DEFAULT_TID_DEPTH,
        max_credit: int = DEFAULT_MAX_CREDIT,
        mfr_code: int | None = None,
    ) -> None:
        key = derive_decoder_key(config)
        # The meter knows its key, not how it was derived.
        self.config = config.replace(decoder_key=key, vending_key=None, dkga=None)
        self.tid_depth = tid_depth
        self.max_credit = max_credit
        if mfr_code is None:
            drn = config.drn_digits or ""
            mfr_code = int(drn[: 2 if len(drn) == 11 else 4] or 0)
        self.mfr_code = mfr_code
        self.credit: dict[int, int] = {sub: 0 for sub in CREDIT_SUBCLASSES}
        self.tids: list[int] = []  # accepted TIDs, newest last, at most tid_depth
        self.pending: dict[int, dict[str, Any]] = {}  # key-change sections received so far
        self.settings: dict[str, int] = {}

    # -- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state, decoder key included (as hex): encrypt it before storing it."""
        return {
            "version": 1,
            "config": self.config.to_dict(include_keys=True),
            "tid_depth": self.tid_depth,
            "max_credit": self.max_credit,
            "mfr_code": self.mfr_code,
            "credit": {str(sub): units for sub, units in self.credit.items()},
            "tids": list(self.tids),
            "pending": {str(sub): dict(fields) for sub, fields in self.pending.items()},
            "settings": dict(self.settings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VirtualMeter:
        """Rebuild a meter saved with :meth:`to_dict`."""
        if data.get("version") != 1:
            raise RequestError("unknown virtual meter state version")
        meter = cls(
            MeterConfig.from_dict(data["config"]),
            tid_depth=data["tid_depth"],
            max_credit=data["max_credit"],
            mfr_code=data["mfr_code"],
        )
        meter.credit = {int(sub): units for sub, units in data["credit"].items()}
        meter.tids = [int(t) for t in data["tids"]]
        meter.pending = {int(sub): dict(fields) for sub, fields in data["pending"].items()}
        meter.settings = dict(data["settings"])
        return meter

    def __repr__(self) -> str:
        return (
            f"VirtualMeter(pan={self.config.pan!r}, ea={self.config.ea!r}, kt={self.config.kt}, "
            f"krn={self.config.krn}, credit={self.credit[0]}, tids={len(self.tids)})"
        )

    # -- token entry -------------------------------------------------------------------------

    @property
    def credit_units(self) -> int:
        """The electricity register in 0.1 kWh."""
        return self.credit[0]

    def enter(self, token: str) -> EntryResult:
        """Type a token on the keypad."""
        cfg = self.config
        try:
            token_class, block = decode_block(token, cfg.ea, cfg.decoder_key)
        except TokenFormatError as exc:
            return self._result(Display.FORMAT, f"Format: {exc}")
        except CrcError:
            return self._result(Display.CRC_ERROR, "CRC error: not for this meter or key, or a digit was mistyped")
        except StsError as exc:
            return self._result(Display.FORMAT, f"Format: {exc}")
        subclass = block >> 60
        decoded = DecodedToken(token_class, subclass, body_fields(token_class, subclass, block >> 16 & (1 << 44) - 1))
        if token_class == TEST:
            return self._test(decoded)
        if token_class == CREDIT:
            return self._credit(decoded)
        if decoded.is_key_change:
            return self._key_change(decoded)
        return self._management(decoded)

    def _result(
        self, display: Display, message: str, decoded: DecodedToken | None = None, added: int = 0
    ) -> EntryResult:
        return EntryResult(display, message, added, self.credit[0], decoded)

    def _tid_refusal(self, tid: int) -> Display | None:
        """Key expired, Used or Old (in that order), or None if the TID may be accepted."""
        if tid >> 16 > self.config.ken:
            return Display.KEY_EXPIRED
        if tid in self.tids:
            return Display.USED
        if len(self.tids) >= self.tid_depth and tid < min(self.tids):
            return Display.OLD
        return None

    def _remember(self, tid: int) -> None:
        self.tids.append(tid)
        if len(self.tids) > self.tid_depth:
            self.tids.remove(min(self.tids))  # an accepted TID replaces the oldest stored one

    def _test(self, decoded: DecodedToken) -> EntryResult:
        if decoded.subclass not in (0, 1):
            message = f"Function: test subclass {decoded.subclass} is not supported"
            return self._result(Display.FUNCTION, message, decoded)
        if decoded.fields["mfr_code"] != self.mfr_code:
            message = "Mfr code error: the test token is for another manufacturer"
            return self._result(Display.MFR_CODE_ERROR, message, decoded)
        return self._result(Display.ACCEPT, f"Accept: test {decoded.fields['control']:#x}", decoded)

    def _credit(self, decoded: DecodedToken) -> EntryResult:
        sub = decoded.subclass
        if self.config.kt == 1:
            return self._result(Display.DDTK, "DDTK: the meter holds a default key and refuses credit", decoded)
        if sub not in CREDIT_SUBCLASSES:
            return self._result(Display.FUNCTION, f"Function: credit subclass {sub} is not supported", decoded)
        tid = decoded.fields["tid"]
        refusal = self._tid_refusal(tid)
        if refusal is not None:
            return self._result(refusal, f"{refusal.value}: token TID {tid}", decoded)
        units = decoded.fields["units"]
        if self.credit[sub] + units > self.max_credit:
            return self._result(Display.OVERFLOW, "Overflow: the credit register would overflow", decoded)
        self._remember(tid)
        self.credit[sub] += units
        unit = _UNIT[sub]
        return self._result(
            Display.ACCEPT,
            f"Accept: {units_to_kwh(units)} {unit}, credit {units_to_kwh(self.credit[sub])} {unit}",
            decoded,
            units,
        )

    def _management(self, decoded: DecodedToken) -> EntryResult:
        sub, fields = decoded.subclass, decoded.fields
        if "tid" not in fields:
            return self._result(Display.FUNCTION, f"Function: management subclass {sub} is not supported", decoded)
        tid = fields["tid"]
        refusal = self._tid_refusal(tid)
        if refusal is not None:
            return self._result(refusal, f"{refusal.value}: token TID {tid}", decoded)
        if sub == 1:
            register = fields["register"]
            if register == 0xFFFF:
                targets = list(self.credit)
            elif register in self.credit:
                targets = [register]
            else:
                return self._result(Display.RANGE, f"Range: no register {register} to clear", decoded)
            self._remember(tid)
            for target in targets:
                self.credit[target] = 0
            return self._result(Display.ACCEPT, "Accept: credit cleared", decoded)
        self._remember(tid)
        if sub == 5:
            self.settings["tamper"] = 0
            return self._result(Display.ACCEPT, "Accept: tamper condition cleared", decoded)
        name = {0: "max_power_watts", 2: "tariff_rate", 6: "max_phase_unbalance_watts", 7: "water_factor"}[sub]
        value = next(v for k, v in fields.items() if k not in ("rnd", "tid"))
        self.settings[name] = value
        return self._result(Display.ACCEPT, f"Accept: {name.replace('_', ' ')} set to {value}", decoded)

    def _key_change(self, decoded: DecodedToken) -> EntryResult:
        sub = decoded.subclass
        wide = decoder_key_bytes(self.config.ea) == 16
        needed = (3, 4, 8, 9) if wide else (3, 4)
        if sub not in needed:
            message = f"Function: key change section {sub} does not apply to this meter"
            return self._result(Display.FUNCTION, message, decoded)
        if sub == 3 and not _kt_change_allowed(self.config.kt, decoded.fields["kt"]):
            return self._result(Display.KEY_TYPE_ERROR, "Key type error: this key type change is not allowed", decoded)
        self.pending[sub] = dict(decoded.fields)
        if any(section not in self.pending for section in needed):
            return self._result(
                Display.KCT1, f"1stKCT: key change section {len(self.pending)} of {len(needed)} accepted", decoded
            )
        return self._apply_key_change(decoded, wide)

    def _apply_key_change(self, decoded: DecodedToken, wide: bool) -> EntryResult:
        s3, s4 = self.pending[3], self.pending[4]
        parts = [s3["key_part"], s4["key_part"]]
        changes: dict[str, Any] = {
            "ken": s3["ken_high"] << 4 | s4["ken_low"],
            "krn": s3["krn"],
            "kt": s3["kt"],
            "ti": s4["ti"],
        }
        if wide:
            s8, s9 = self.pending[8], self.pending[9]
            parts = [s3["key_part"], s8["key_part"], s9["key_part"], s4["key_part"]]  # NKHO NKMO2 NKMO1 NKLO
            changes["sgc"] = f"{s9['sgc_high'] << 12 | s8['sgc_low']:06d}"
        if not 1 <= changes["krn"] <= 9 or changes["ti"] > 99:
            self.pending.clear()
            return self._result(Display.RANGE, "Range: the key change carries an invalid KRN or TI", decoded)
        rollover = bool(s3["ro"])
        if rollover:
            # Rollover: the new key is for the next base date, and the TID count starts again.
            changes["base_date"] = _NEXT_BASE_DATE.get(self.config.base_date, self.config.base_date)
            self.tids.clear()
        changes["decoder_key"] = bytes.fromhex("".join(parts))
        self.config = self.config.replace(**changes)
        self.pending.clear()
        note = ", TID memory cleared (rollover)" if rollover else ""
        return self._result(Display.KCT2, f"2ndKCT: new key in use, KRN {changes['krn']}{note}", decoded)
