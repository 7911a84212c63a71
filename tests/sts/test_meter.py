"""The virtual meter: result codes, TID memory, key changes, persistence and key secrecy."""

from __future__ import annotations

import json

import pytest

from vending.sts import (
    Display,
    MeterConfig,
    VirtualMeter,
    credit_token,
    derive_decoder_key,
    key_change_tokens,
    management_token,
    test_token,
)

VK = bytes.fromhex("abababababababab")
METER = MeterConfig(drn="47500150231", sgc="123456", ti=1, krn=1, kt=2, ea="07", dkga="02", vending_key=VK)
WIDE = MeterConfig(pan="600727000000000009", sgc="123457", ti=1, krn=1, kt=2, ea="11", dkga="04",
                   vending_key=bytes.fromhex("abababababababab949494949494949401234567"))  # fmt: skip


def test_accepts_a_token_once_then_says_used() -> None:
    meter = VirtualMeter(METER)
    token = credit_token(METER, units=250, tid=6_000_000, rnd=3)
    first = meter.enter(token.digits)
    assert first.display is Display.ACCEPT
    assert first.units_added == 250 and first.credit_after == 250
    assert first.message == "Accept: 25.0 kWh, credit 25.0 kWh"
    second = meter.enter(credit_token(METER, units=150, tid=6_000_001).digits)
    assert second.message == "Accept: 15.0 kWh, credit 40.0 kWh"
    again = meter.enter(token.digits)
    assert again.display is Display.USED and again.credit_after == 400


def test_token_older_than_the_tid_memory_is_old() -> None:
    meter = VirtualMeter(METER, tid_depth=20)
    old = credit_token(METER, units=10, tid=5_000_000)
    for i in range(20):
        assert meter.enter(credit_token(METER, units=10, tid=5_000_001 + i).digits).display is Display.ACCEPT
    assert meter.enter(old.digits).display is Display.OLD
    # A TID between stored ones that was never used is still accepted.
    meter2 = VirtualMeter(METER, tid_depth=3)
    for tid in (10, 30, 40):
        meter2.enter(credit_token(METER, units=1, tid=tid).digits)
    assert meter2.enter(credit_token(METER, units=1, tid=20).digits).display is Display.ACCEPT
    assert meter2.enter(credit_token(METER, units=1, tid=15).digits).display is Display.OLD


def test_wrong_meter_or_mistyped_digit_is_a_crc_error_and_garbage_is_format() -> None:
    meter = VirtualMeter(METER)
    other = METER.replace(drn="00000000000", pan=None)
    assert meter.enter(credit_token(other, units=10, tid=7).digits).display is Display.CRC_ERROR
    assert meter.enter("1234").display is Display.FORMAT
    assert meter.enter("99999999999999999999").display is Display.FORMAT


def test_key_expiry_ddtk_and_overflow() -> None:
    meter = VirtualMeter(METER.replace(ken=0x50))
    assert meter.enter(credit_token(METER, units=1, tid=0x51_0000).digits).display is Display.KEY_EXPIRED
    assert meter.enter(credit_token(METER, units=1, tid=0x50_FFFF).digits).display is Display.ACCEPT
    ddtk = METER.replace(kt=1)
    assert VirtualMeter(ddtk).enter(credit_token(ddtk, units=1, tid=5).digits).display is Display.DDTK
    small = VirtualMeter(METER, max_credit=100)
    assert small.enter(credit_token(METER, units=101, tid=5).digits).display is Display.OVERFLOW
    assert small.enter(credit_token(METER, units=100, tid=5).digits).display is Display.ACCEPT


def test_key_change_pair_then_only_the_new_key_works() -> None:
    meter = VirtualMeter(METER)
    new = METER.replace(krn=2, vending_key=bytes.fromhex("9494949494949494"))
    first, second = key_change_tokens(METER, new)
    assert meter.enter(first.digits).display is Display.KCT1
    assert meter.enter(second.digits).display is Display.KCT2
    assert meter.config.krn == 2
    assert meter.config.decoder_key == derive_decoder_key(new)
    assert meter.enter(credit_token(METER, units=5, tid=100).digits).display is Display.CRC_ERROR
    assert meter.enter(credit_token(new, units=5, tid=100).digits).display is Display.ACCEPT


def test_four_section_key_change_and_rollover_clears_tid_memory() -> None:
    meter = VirtualMeter(WIDE)
    assert meter.enter(credit_token(WIDE, units=5, tid=100).digits).display is Display.ACCEPT
    new = WIDE.replace(base_date=2014, krn=2, sgc="654321")
    sections = key_change_tokens(WIDE, new, ro=True)
    assert [t.subclass for t in sections] == [3, 4, 8, 9]
    shown = [meter.enter(t.digits).display for t in sections]
    assert shown == [Display.KCT1, Display.KCT1, Display.KCT1, Display.KCT2]
    assert meter.config.base_date == 2014 and meter.config.sgc == "654321"
    assert meter.tids == [] and meter.credit_units == 5
    assert meter.config.decoder_key == derive_decoder_key(new)
    assert meter.enter(credit_token(new, units=5, tid=100).digits).display is Display.ACCEPT


def test_management_and_test_tokens() -> None:
    meter = VirtualMeter(METER)
    meter.enter(credit_token(METER, units=500, tid=1).digits)
    clear = management_token(METER, subclass=1, value=0, tid=2)
    assert meter.enter(clear.digits).display is Display.ACCEPT and meter.credit_units == 0
    limit = management_token(METER, subclass=0, value=5000, tid=3)
    assert meter.enter(limit.digits).display is Display.ACCEPT
    assert meter.settings["max_power_watts"] >= 5000
    assert meter.enter(test_token(subclass=0, control=1, mfr_code=47).digits).display is Display.ACCEPT
    assert meter.enter(test_token(subclass=0, control=1, mfr_code=12).digits).display is Display.MFR_CODE_ERROR
    assert meter.enter(management_token(METER, subclass=1, value=9, tid=4).digits).display is Display.RANGE


def test_state_round_trips_through_json_and_key_stays_out_of_repr() -> None:
    meter = VirtualMeter(METER)
    meter.enter(credit_token(METER, units=70, tid=9).digits)
    state = json.loads(json.dumps(meter.to_dict()))
    restored = VirtualMeter.from_dict(state)
    assert restored.credit_units == 70 and restored.tids == [9]
    assert restored.enter(credit_token(METER, units=70, tid=9).digits).display is Display.USED
    key_hex = derive_decoder_key(METER).hex()
    assert key_hex not in repr(meter) and key_hex not in str(meter)
    assert VK.hex() not in repr(METER) and key_hex not in repr(restored.config)


@pytest.mark.parametrize("ea", ["07", "09"])
def test_meter_given_a_decoder_key_directly(ea: str) -> None:
    config = MeterConfig(drn="47500150231", ea=ea, decoder_key=bytes.fromhex("0abc12def3456789"))
    meter = VirtualMeter(config)
    assert meter.enter(credit_token(config, units=1, tid=1).digits).display is Display.ACCEPT
