"""The worked examples of docs/STS.md, each checked against the engine's building blocks."""

from __future__ import annotations

from datetime import datetime

import pytest

from vending.sts import (
    MeterConfig,
    decode_amount,
    derive_decoder_key,
    encode_amount,
    kwh_to_units,
    last_minute,
    luhn_check_digit,
    pan_from_drn,
    sta,
    test_token,
    tid_from_datetime,
)
from vending.sts.crc import token_crc
from vending.sts.dkga import control_block, dkga04_message
from vending.sts.identity import pan_block
from vending.sts.misty1 import Misty1, encrypt_with_key
from vending.sts.transpose import insert_class, render

KEY = 0x0ABC12DEF3456789
BLOCK = 0x0B19EB230100C207


@pytest.mark.parametrize(
    ("seven_bytes", "crc"),
    [("00004A2D900FF2", 0x0FFA), ("000B19EB230100", 0xC207), ("0005C02A552710", 0x1970), ("00055998630001", 0x19E6)],
)
def test_crc_table(seven_bytes: str, crc: int) -> None:
    value = int(seven_bytes, 16)
    assert token_crc(value >> 48, value & (1 << 48) - 1) == crc


def test_worked_example_with_the_sample_tables() -> None:
    enc = sta.sample().encrypt(BLOCK, KEY)
    assert enc == 0xC45ED1619406DF95
    assert insert_class(0, enc) == 0x2C45ED1618406DF95
    assert render(insert_class(0, enc)) == "51043465443420856213"
    assert sta.sample().decrypt(enc, KEY) == BLOCK


def test_worked_example_with_the_production_tables() -> None:
    enc = sta.encrypt(BLOCK, KEY)
    assert enc == 0x9335C6C96B7352DC
    assert render(insert_class(0, enc)) == "29054347139309851356"
    assert sta.decrypt(enc, KEY) == BLOCK


def test_production_inverse_tables_match_the_reference() -> None:
    assert sta.inverse(sta.T1) == (9, 11, 6, 5, 12, 7, 14, 2, 13, 3, 1, 15, 4, 8, 0, 10)
    assert sta.inverse(sta.T2) == (12, 6, 2, 7, 13, 9, 5, 4, 1, 10, 14, 8, 0, 3, 15, 11)
    assert sta.inverse(sta.P)[:16] == (55, 54, 8, 25, 27, 47, 16, 26, 59, 14, 2, 51, 18, 46, 61, 52)


@pytest.mark.parametrize(
    ("kwh", "field"),
    [("1638.3", 0x3FFF), ("1638.4", 0x4000), ("2000.0", 0x416A), ("18022.3", 0x8000),
     ("181862.3", 0xC000), ("1820162.4", 0xFFFF)],
)  # fmt: skip
def test_amount_boundary_table(kwh: str, field: int) -> None:
    assert encode_amount(kwh_to_units(kwh)) == field


def test_amount_rounds_up_from_the_decimal_string() -> None:
    assert kwh_to_units("1.82") == 19  # Nectar truncates to 18
    assert decode_amount(0x416A) == 20004
    assert kwh_to_units("0.01") == 1


@pytest.mark.parametrize("watts", [256, 16_383, 16_384, 20_000, 180_223, 180_224, 1_818_623, 1_818_624, 18_201_624])
def test_power_limits_encode_to_at_least_the_value(watts: int) -> None:
    assert decode_amount(encode_amount(watts)) >= watts


@pytest.mark.parametrize(
    ("payload", "check"),
    [("1234567890", "3"), ("43135625623", "7"), ("7861754265922", "0"), ("4750015023", "1"),
     ("60072700000000000", "9"), ("00000100000000008", "2")],
)  # fmt: skip
def test_luhn_table(payload: str, check: str) -> None:
    assert luhn_check_digit(payload) == check


def test_pan_and_pan_block() -> None:
    assert pan_from_drn("00000000000") == "600727000000000009"
    assert pan_from_drn("0100000000008") == "000001000000000082"
    assert pan_block("600727000000000009", 2) == 0x0072700000000000
    assert pan_block(pan_from_drn("47500150231"), 2) == 0x0072747500150231
    assert pan_block("000001000000000082", 2) == 0x0000100000000008


def test_dkga02_examples() -> None:
    meter = MeterConfig(drn="00000000000", sgc="123456", ti=1, krn=1, kt=2, dkga="02",
                        vending_key=bytes.fromhex("abababababababab"))  # fmt: skip
    assert control_block(2, "123456", 1, 1) == 0x2123456011FFFFFF
    assert control_block(0, "000046", 1, 1) == 0x0000046011FFFFFF
    assert derive_decoder_key(meter).hex() == "e653341f9d5bf36f"
    # docs/STS.md calls 2123456021FFFFFF "KRN 2"; the digits are TI 02, KRN 1.
    assert derive_decoder_key(meter.replace(ti=2)).hex() == "060b8643c59a27f1"


def test_dkga04_example() -> None:
    meter = MeterConfig(pan="600727000000000009", sgc="123457", ti=1, krn=1, kt=2, ea="11", dkga="04",
                        vending_key=bytes.fromhex("abababababababab949494949494949401234567"))  # fmt: skip
    expected = "04023034023933023131023031000406313233343537013201311236303037323730303030303030303030303900000080"
    message = dkga04_message(base_date=1993, ea="11", ti=1, sgc="123457", kt=2, krn=1,
                             pan="600727000000000009", key_bits=128)  # fmt: skip
    assert message.hex() == expected
    assert derive_decoder_key(meter).hex() == "f94b6ed353c3bfdb113e2d3a7ea3c41d"
    assert derive_decoder_key(meter.replace(ea="07")).hex() == "aa4baa8749c10d27"


def test_misty1_rfc_vector() -> None:
    key = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert Misty1(key).encrypt(0x0123456789ABCDEF) == 0x8B1DA5F56AB3D07C
    assert encrypt_with_key(key, 0x0123456789ABCDEF) == 0x8B1DA5F56AB3D07C
    assert Misty1(key).decrypt(0x8B1DA5F56AB3D07C) == 0x0123456789ABCDEF
    assert "00112233" not in repr(Misty1(key))


def test_misty1_fi_tables_match_the_rfc_halves() -> None:
    from vending.sts import misty1

    assert list(misty1._FI1) == [misty1._fi_first_half(x) for x in range(1 << 16)]
    assert list(misty1._FI2) == [misty1._fi_second_half(y) for y in range(1 << 16)]
    assert all(misty1.fi(x, k) == misty1._fi_second_half(misty1._fi_first_half(x) ^ k)
               for x in range(0, 1 << 16, 257) for k in range(0, 1 << 16, 263))  # fmt: skip


def test_tid_example() -> None:
    assert tid_from_datetime(datetime(2004, 3, 1, 13, 55), 1993) == 5_871_715


@pytest.mark.parametrize(
    ("base_date", "last"),
    [(1993, datetime(2024, 11, 24, 20, 15)), (2014, datetime(2045, 11, 24, 20, 15)),
     (2035, datetime(2066, 11, 24, 20, 15))],
)  # fmt: skip
def test_last_minute_of_each_base_date(base_date: int, last: datetime) -> None:
    assert last_minute(base_date) == last
    assert tid_from_datetime(last, base_date) == 0xFFFFFF


def test_class_1_examples() -> None:
    assert test_token(subclass=0, control=(1 << 36) - 1, mfr_code=0).digits == "56493153725450313471"
    assert test_token(subclass=1, control=(1 << 28) - 1, mfr_code=0).digits == "02305843005052951967"
    # Control bit 3 lands in block bit 27, which transposition moves to bit 64: over 2^64.
    big = test_token(subclass=0, control=0x8, mfr_code=0).digits
    assert big == "18446744073843772416"
    assert int(big) > 1 << 64
