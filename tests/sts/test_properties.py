"""Property tests: decode(generate(x)) == x for every token kind and algorithm; typos are refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vending.sts import (
    MAX_UNITS,
    CrcError,
    MeterConfig,
    StsError,
    credit_token,
    decode_amount,
    decode_token,
    encode_amount,
    key_change_tokens,
    management_token,
    round_units,
    sta,
    test_token,
)
from vending.sts.misty1 import Misty1, encrypt_with_key

FAST = settings(max_examples=60, deadline=None)
KEYS = {"07": 8, "09": 8, "11": 16}

eas = st.sampled_from(["07", "09", "11"])
tids = st.integers(0, 0xFFFFFF)
rnds = st.integers(0, 15)


@st.composite
def meters(draw: st.DrawFn) -> MeterConfig:
    ea = draw(eas)
    return MeterConfig(drn="47500150231", ea=ea, decoder_key=draw(st.binary(min_size=KEYS[ea], max_size=KEYS[ea])))


@FAST
@given(meters(), st.integers(0, 3), st.integers(0, MAX_UNITS), tids, rnds)
def test_credit_round_trip(meter: MeterConfig, subclass: int, units: int, tid: int, rnd: int) -> None:
    token = credit_token(meter, units=units, tid=tid, rnd=rnd, subclass=subclass)
    decoded = decode_token(token.digits, meter)
    assert (decoded.token_class, decoded.subclass) == (0, subclass)
    assert decoded.fields == {"rnd": rnd, "tid": tid, "units": round_units(units)}
    assert round_units(units) >= units


@FAST
@given(meters(), st.sampled_from([0, 1, 2, 5, 6, 7]), st.integers(0, 0xFFFF), tids, rnds)
def test_management_round_trip(meter: MeterConfig, subclass: int, value: int, tid: int, rnd: int) -> None:
    token = management_token(meter, subclass=subclass, value=value, tid=tid, rnd=rnd)
    fields = decode_token(token.digits, meter).fields
    name = {0: "watts", 1: "register", 2: "rate", 5: "pad", 6: "watts", 7: "factor"}[subclass]
    expected = round_units(value) if subclass in (0, 6) else value
    assert fields == {"rnd": rnd, "tid": tid, name: expected}


@FAST
@given(st.sampled_from([0, 1]), st.data())
def test_test_token_round_trip(subclass: int, data: st.DataObject) -> None:
    control = data.draw(st.integers(0, (1 << (36 if subclass == 0 else 28)) - 1))
    mfr = data.draw(st.integers(0, (1 << (8 if subclass == 0 else 16)) - 1))
    decoded = decode_token(test_token(subclass=subclass, control=control, mfr_code=mfr).digits)
    assert (decoded.token_class, decoded.subclass) == (1, subclass)
    assert decoded.fields == {"control": control, "mfr_code": mfr}


@FAST
@given(meters(), st.data(), st.integers(0, 255), st.integers(1, 9), st.integers(0, 3), st.integers(0, 99),
       st.integers(0, 999_999), st.booleans())  # fmt: skip
def test_key_change_round_trip(
    meter: MeterConfig, data: st.DataObject, ken: int, krn: int, kt: int, ti: int, sgc: int, ro: bool
) -> None:
    size = KEYS[meter.ea]
    new_key = data.draw(st.binary(min_size=size, max_size=size))
    new = meter.replace(decoder_key=new_key, ken=ken, krn=krn, kt=kt, ti=ti, sgc=f"{sgc:06d}")
    tokens = key_change_tokens(meter, new, ro=ro)
    fields = {t.subclass: decode_token(t.digits, meter).fields for t in tokens}
    assert list(fields) == ([3, 4, 8, 9] if size == 16 else [3, 4])
    assert fields[3]["ken_high"] << 4 | fields[4]["ken_low"] == ken
    assert (fields[3]["krn"], fields[3]["kt"], fields[3]["ro"], fields[4]["ti"]) == (krn, kt, int(ro), ti)
    order = [3, 8, 9, 4] if size == 16 else [3, 4]  # NKHO ‖ NKMO2 ‖ NKMO1 ‖ NKLO
    assert bytes.fromhex("".join(fields[s]["key_part"] for s in order)) == new_key
    if size == 16:
        assert fields[9]["sgc_high"] << 12 | fields[8]["sgc_low"] == sgc


@FAST
@given(meters(), st.integers(0, MAX_UNITS), tids, rnds, st.integers(0, 19), st.integers(1, 9))
def test_changing_one_digit_is_refused(
    meter: MeterConfig, units: int, tid: int, rnd: int, position: int, delta: int
) -> None:
    """A changed digit changes the 66-bit value, hence the class or the ciphertext. For classes 0 and 2
    the decrypted block is then unrelated to the original, so the CRC rejects it except with
    probability 2^-16 per token. A property test must be sound, so the rare pass is allowed only
    when it decodes to a *different* token (never silently to the original)."""
    token = credit_token(meter, units=units, tid=tid, rnd=rnd).digits
    digit = (int(token[position]) + delta) % 10
    typo = token[:position] + str(digit) + token[position + 1 :]
    try:
        decoded = decode_token(typo, meter)
    except CrcError:
        return
    except StsError:
        return  # format (over 2^66) or class 3
    assert decoded.as_dict() != decode_token(token, meter).as_dict()


def test_every_single_digit_change_of_known_tokens_is_refused() -> None:
    """Exhaustive over a fixed set: all 20 x 9 typos of a few tokens are refused outright."""
    meter = MeterConfig(drn="47500150231", ea="07", decoder_key=bytes.fromhex("0abc12def3456789"))
    for tid in (1, 5_871_715, 0xFFFFFF):
        token = credit_token(meter, units=255, tid=tid, rnd=7).digits
        for position in range(20):
            for digit in "0123456789":
                if digit != token[position]:
                    typo = token[:position] + digit + token[position + 1 :]
                    try:
                        decode_token(typo, meter)
                    except StsError:
                        continue
                    raise AssertionError(f"typo {typo} of {token} was accepted")


@FAST
@given(st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 64) - 1))
def test_sta_decrypt_inverts_encrypt(block: int, key: int) -> None:
    assert sta.decrypt(sta.encrypt(block, key), key) == block


@FAST
@given(st.integers(0, (1 << 64) - 1), st.binary(min_size=16, max_size=16))
def test_misty1_paths_agree_and_invert(block: int, key: bytes) -> None:
    enc = encrypt_with_key(key, block)
    assert Misty1(key).encrypt(block) == enc
    assert Misty1(key).decrypt(enc) == block


@FAST
@given(st.integers(0, 0xFFFF))
def test_amount_field_round_trips(field: int) -> None:
    assert encode_amount(decode_amount(field)) == field
