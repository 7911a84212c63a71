"""Token classes (§6.2, §6.3): building credit, management, test and key-change tokens.

Every token shares one frame: block64 = SubClass (4) ‖ body (44) ‖ CRC (16), with the CRC over
Class ‖ SubClass ‖ body. Classes 0 and 2 are encrypted with the decoder key, class 1 is not; then
the class is inserted (bits 28/27) and the 66-bit number is written as 20 digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from vending.sts.amount import encode_amount
from vending.sts.ciphers import encrypt_block
from vending.sts.config import MeterConfig, decoder_key_bytes
from vending.sts.crc import token_crc
from vending.sts.dkga import derive_decoder_key
from vending.sts.errors import OutOfRangeError, RequestError, UnsupportedError
from vending.sts.tid import check_tid
from vending.sts.transpose import insert_class, render

CREDIT = 0
TEST = 1
MANAGEMENT = 2

CREDIT_SUBCLASSES = {0: "electricity", 1: "water", 2: "gas", 3: "time"}
# Management subclasses with the RND ‖ TID ‖ 16-bit value body, and the name of that value.
MANAGEMENT_VALUES = {0: "watts", 1: "register", 2: "rate", 5: "pad", 6: "watts", 7: "factor"}
KEY_CHANGE_SUBCLASSES = (3, 4, 8, 9)
# Subclasses 0 and 6 carry watts in the amount encoding; the others a raw 16-bit number.
_AMOUNT_ENCODED = (0, 6)


@dataclass(frozen=True, slots=True)
class Token:
    """One 20-digit token. ``tid`` is None for tokens that carry none (test, key change)."""

    token_class: int
    subclass: int
    digits: str
    tid: int | None = None

    def __str__(self) -> str:
        return self.digits

    def grouped(self) -> str:
        """Five groups of four digits, as printed on a receipt."""
        d = self.digits
        return " ".join(d[i : i + 4] for i in range(0, 20, 4))


def frame(token_class: int, subclass: int, body44: int) -> int:
    """The 64-bit plaintext block: SubClass ‖ body ‖ CRC."""
    block48 = subclass << 44 | body44
    return block48 << 16 | token_crc(token_class, block48)


def seal(token_class: int, block: int, ea: str | None, key: bytes | None) -> str:
    """Encrypt (unless class 1), insert the class and render the 20 digits."""
    if token_class != TEST:
        if key is None or ea is None:
            raise RequestError("an encrypted token needs the meter's decoder key")
        block = encrypt_block(ea, key, block)
    return render(insert_class(token_class, block))


def _check_rnd(rnd: int) -> int:
    if isinstance(rnd, bool) or not isinstance(rnd, int) or not 0 <= rnd <= 15:
        raise OutOfRangeError(f"rnd must be a whole number from 0 to 15, not {rnd!r}")
    return rnd


def _check_uint(name: str, value: int, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise OutOfRangeError(f"{name} must be a whole number from 0 to {(1 << bits) - 1}, not {value!r}")
    return value


def _tid_body(rnd: int, tid: int, field16: int) -> int:
    return _check_rnd(rnd) << 40 | tid << 16 | field16


def _key(config: MeterConfig, decoder_key: bytes | None) -> bytes:
    return decoder_key if decoder_key is not None else derive_decoder_key(config)


def _checked_tid(tid: int, config: MeterConfig) -> int:
    if isinstance(tid, bool) or not isinstance(tid, int):
        raise RequestError(f"tid must be a whole number, not {tid!r}")
    return check_tid(tid, config.base_date)


def credit_token(
    config: MeterConfig,
    *,
    units: int,
    tid: int,
    rnd: int = 0,
    subclass: int = 0,
    decoder_key: bytes | None = None,
) -> Token:
    """Class 0 TransferCredit: ``units`` of 0.1 kWh / 0.1 m³ (rounded up to the field's step).

    ``decoder_key`` skips the derivation when the caller already has the meter's key.
    """
    if subclass not in CREDIT_SUBCLASSES:
        raise UnsupportedError(f"credit subclass {subclass!r} is not supported (0 electricity, 1 water, 2 gas, 3 time)")
    if isinstance(units, bool) or not isinstance(units, int):
        raise RequestError(f"units must be a whole number of 0.1 units, not {units!r}")
    tid = _checked_tid(tid, config)
    block = frame(CREDIT, subclass, _tid_body(rnd, tid, encode_amount(units)))
    return Token(CREDIT, subclass, seal(CREDIT, block, config.ea, _key(config, decoder_key)), tid)


def management_token(
    config: MeterConfig,
    *,
    subclass: int,
    value: int,
    tid: int,
    rnd: int = 0,
    decoder_key: bytes | None = None,
) -> Token:
    """Class 2 with a TID: 0 max power (watts), 1 clear credit (register), 2 tariff rate,
    5 clear tamper (pad), 6 max phase power unbalance (watts), 7 water meter factor."""
    if subclass not in MANAGEMENT_VALUES:
        raise UnsupportedError(
            f"management subclass {subclass!r} is not supported here (0, 1, 2, 5, 6, 7; key changes use 3, 4, 8, 9)"
        )
    name = MANAGEMENT_VALUES[subclass]
    if subclass in _AMOUNT_ENCODED:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestError(f"{name} must be a whole number, not {value!r}")
        field16 = encode_amount(value)
    else:
        field16 = _check_uint(name, value, 16)
    tid = _checked_tid(tid, config)
    block = frame(MANAGEMENT, subclass, _tid_body(rnd, tid, field16))
    return Token(MANAGEMENT, subclass, seal(MANAGEMENT, block, config.ea, _key(config, decoder_key)), tid)


def test_token(*, subclass: int, control: int, mfr_code: int) -> Token:
    """Class 1 InitiateMeterTest/Display (not encrypted): subclass 0 has a 36-bit control field and
    an 8-bit MfrCode (2-digit codes), subclass 1 a 28-bit control field and 16-bit MfrCode."""
    if subclass == 0:
        body = _check_uint("control", control, 36) << 8 | _check_uint("mfr_code", mfr_code, 8)
    elif subclass == 1:
        body = _check_uint("control", control, 28) << 16 | _check_uint("mfr_code", mfr_code, 16)
    else:
        raise UnsupportedError(f"test token subclass {subclass!r} is not supported (0 or 1)")
    return Token(TEST, subclass, seal(TEST, frame(TEST, subclass, body), None, None))


def key_change_tokens(
    config: MeterConfig,
    new_config: MeterConfig,
    *,
    ro: bool = False,
    decoder_key: bytes | None = None,
    new_decoder_key: bytes | None = None,
) -> list[Token]:
    """The key-change set moving a meter from ``config`` to ``new_config``.

    Two tokens (subclasses 3, 4) for a 64-bit key, four (3, 4, 8, 9) for a 128-bit one, all
    encrypted under the CURRENT key. ``ro`` sets the rollover bit (base-date migration: the meter
    clears its TID memory). KEN travels split (KENHO in 3, KENLO in 4), TI in binary in 4, the
    SGC halves in 8 and 9; the 128-bit key is NKHO ‖ NKMO2 ‖ NKMO1 ‖ NKLO.
    """
    old_key = _key(config, decoder_key)
    new_key = _key(new_config, new_decoder_key)
    size = decoder_key_bytes(config.ea)
    if len(new_key) != size:
        raise RequestError(f"the new decoder key must have {size} bytes for EA{config.ea}, like the current one")
    ken, krn, kt, ti = new_config.ken, new_config.krn, new_config.kt, new_config.ti
    ro_bit = 1 if ro else 0
    if size == 8:
        nkho, nklo = int.from_bytes(new_key[:4], "big"), int.from_bytes(new_key[4:], "big")
    else:
        nkho = int.from_bytes(new_key[0:4], "big")
        nkmo2 = int.from_bytes(new_key[4:8], "big")
        nkmo1 = int.from_bytes(new_key[8:12], "big")
        nklo = int.from_bytes(new_key[12:16], "big")
    bodies = [
        (3, (ken >> 4) << 40 | krn << 36 | ro_bit << 35 | kt << 32 | nkho),
        (4, (ken & 0xF) << 40 | ti << 32 | nklo),
    ]
    if size == 16:
        sgc = int(new_config.sgc)  # the 24-bit binary value of the 6-digit number
        bodies.append((8, (sgc & 0xFFF) << 32 | nkmo2))
        bodies.append((9, (sgc >> 12) << 32 | nkmo1))
    return [
        Token(MANAGEMENT, sub, seal(MANAGEMENT, frame(MANAGEMENT, sub, body), config.ea, old_key))
        for sub, body in bodies
    ]


# "test_token" is a token kind, not a pytest test: keep collectors from picking it up on import.
test_token.__test__ = False  # type: ignore[attr-defined]
