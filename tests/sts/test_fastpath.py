"""The CLI's fast path serves exactly what the general path would, and nothing it would refuse.

``fastpath.credit_line`` must return the very line ``requests.generate`` + the CLI encoder give,
or None (the line is then served the general way). Checked on the plain bulk shape for every
EA/DKGA pair and on variations of every field, valid and not; plus the two-process CLI on a
mixed batch, and the DES binding the fast path relies on.
"""

from __future__ import annotations

import copy
import json
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sts.conftest import run_cli
from vending.sts import StsError, dea
from vending.sts.cli import PARALLEL_THRESHOLD, _dumps, serve
from vending.sts.fastpath import credit_line
from vending.sts.identity import luhn_check_digit
from vending.sts.requests import generate

VENDING_KEYS = {"02": "abababababababab", "04": "abababababababab949494949494949401234567"}
PAIRS = (("07", "02"), ("09", "02"), ("07", "04"), ("09", "04"), ("11", "04"))


def _drn(n: int, digits: int = 11) -> str:
    payload = f"{n:0{digits - 1}d}"
    return payload + luhn_check_digit(payload)


def _request(ea: str = "07", dkga: str = "02", n: int = 7, **token: Any) -> dict[str, Any]:
    meter = {"drn": _drn(n), "sgc": "123456", "ti": 1, "krn": 1, "kt": 2, "ea": ea, "dkga": dkga,
             "vending_key": VENDING_KEYS[dkga]}  # fmt: skip
    return {"meter": meter, "token": {"class": 0, "subclass": 0, "tid": 6_000_000 + n, "rnd": n % 16,
                                      "units": 10 + 7 * n, **token}}  # fmt: skip


def _general(request: Any) -> str | None:
    """The general path's line, or None where it refuses the request."""
    try:
        return _dumps(generate(copy.deepcopy(request)))
    except StsError:
        return None


def _agrees(request: Any) -> str | None:
    fast = credit_line(copy.deepcopy(request))
    if fast is not None:
        assert fast == _general(request), request
    return fast


@pytest.mark.parametrize(("ea", "dkga"), PAIRS)
def test_plain_bulk_requests_take_the_fast_path_and_agree(ea: str, dkga: str) -> None:
    for n in range(300):
        request = _request(ea, dkga, n, subclass=n % 4)
        assert _agrees(request) is not None, request


@pytest.mark.parametrize(("ea", "dkga"), PAIRS)
def test_every_meter_setting_agrees(ea: str, dkga: str) -> None:
    for changes in (
        {"kt": 3},  # common key: DRN digits zeroed in the PANBlock
        {"kt": 0, "krn": 9, "ti": 99, "sgc": "000000"},
        {"base_date": 2014},
        {"base_date": 2035, "ken": 0},
        {"drn": _drn(123456789012, 13)},  # 13-digit DRN, IIN 0000
        {"dkga": None},  # DKGA told by the key length
        {"note": "ignored"},
    ):
        request = _request(ea, dkga)
        request["meter"].update(changes)
        request["meter"] = {k: v for k, v in request["meter"].items() if v is not None}
        assert _agrees(request) is not None, changes
    bare = _request(ea, dkga)
    for name in ("sgc", "ti", "krn", "kt"):
        del bare["meter"][name]  # the defaults
    assert _agrees(bare) is not None


ODD_VALUES = (
    None, True, False, 0, 1, 2, 3, 4, 9, 10, 15, 16, 99, 100, 255, 256, -1, 1993, 2014, 2035, 2000,
    0xFFFFFF, 1 << 24, 18_201_624, 18_201_625, 1.0, 0.5, Decimal("1"), Decimal("1.5"), "", "0", "07", "09",
    "11", "08", "02", "04", "03", "123456", "12345", "12345a", "١٢٣٤٥٦", "00000000000", "00000000001",
    "47500150231", "abababababababab", "abababababab", "zz", [], {}, 7, 11, 7.0,
)  # fmt: skip
METER_FIELDS = ("drn", "pan", "iin", "sgc", "ti", "krn", "kt", "ea", "dkga", "base_date", "ken", "vending_key",
                "decoder_key")  # fmt: skip
TOKEN_FIELDS = ("class", "subclass", "tid", "issued_at", "rnd", "units", "kwh", "key_change")
MISSING = object()


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(PAIRS),
    st.lists(st.tuples(st.sampled_from(METER_FIELDS), st.sampled_from((MISSING, *ODD_VALUES))), max_size=3),
    st.lists(st.tuples(st.sampled_from(TOKEN_FIELDS), st.sampled_from((MISSING, *ODD_VALUES))), max_size=3),
)
def test_variations_agree_or_fall_back(pair: tuple[str, str], meter: list[Any], token: list[Any]) -> None:
    request = _request(*pair)
    for part, changes in (("meter", meter), ("token", token)):
        for name, value in changes:
            if value is MISSING:
                request[part].pop(name, None)
            else:
                request[part][name] = value
    _agrees(request)


@pytest.mark.parametrize(
    "request_",
    [None, [], "x", {}, {"token": {}}, {"meter": {}}, {"meter": [], "token": {}}, {"meter": {}, "token": []},
     {"meter": None, "token": {"class": 0}}],
)  # fmt: skip
def test_other_shapes_fall_back(request_: Any) -> None:
    assert credit_line(request_) is None


def test_a_mixed_batch_over_two_processes_matches_the_general_path() -> None:
    lines = []
    for n in range(PARALLEL_THRESHOLD + 101):
        ea, dkga = PAIRS[n % len(PAIRS)]
        request = _request(ea, dkga, n)
        if n % 97 == 0:
            request["token"]["rnd"] = 16  # refused
        elif n % 89 == 0:
            request["meter"]["drn"] = request["meter"]["drn"][:-1] + str((int(request["meter"]["drn"][-1]) + 1) % 10)
        elif n % 83 == 0:
            request["token"] = {"class": 1, "subclass": 0, "control": n, "mfr_code": 7}  # general path, served
        lines.append(json.dumps(request))
        if n % 1000 == 0:
            lines.append("{not json")
            lines.append("")
    proc = run_cli("generate", lines)
    expected, ok = serve(lines, generate)
    assert not ok
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == expected
    assert sum('"error"' in line for line in expected) > 20


def test_des_binding_matches_pycryptodome() -> None:
    from Crypto.Cipher import DES

    assert dea.RAW, "the ctypes binding to pycryptodome's DES did not load: EA09/DKGA02 would be slower"
    fallback = dea._pycryptodome_binding()
    for _ in range(500):
        key = os.urandom(8)
        block = int.from_bytes(os.urandom(8), "big")
        want = int.from_bytes(DES.new(key, DES.MODE_ECB).encrypt(block.to_bytes(8, "big")), "big")
        assert dea.des_encrypt(block, key) == want == dea.des_encryptor(key)(block)
        assert fallback[0](block, key) == want == fallback[2](key)(block)
        assert dea.des_decrypt(want, key) == block == fallback[1](want, key)
    with pytest.raises(ValueError):
        dea.des_encrypt(0, b"1234567")


def test_json_edge_lines_answer_as_json_decoder_decode() -> None:
    """serve() scans a line directly when it is one JSON value end to end; others go to decode()."""
    good = json.dumps(_request())
    lines = [good, " " + good, good + " ", good + "\t", good + " x", good + good, "[1] 2", "{", "", "  ", "nul",
             "NaN", "1e400", '{"meter": 1}', '"str"', "\ufeff" + good, '{"a": 1, "a": 2}',
             "[" * 50 + "]" * 50]  # fmt: skip
    decoder = json.JSONDecoder(parse_float=Decimal)
    expected = []
    for line in lines:
        if not line.strip():
            continue
        try:
            request = decoder.decode(line)
        except ValueError as exc:
            expected.append(_dumps({"error": f"malformed JSON: {exc}"}))
            continue
        try:
            expected.append(_dumps(generate(request)))
        except StsError as exc:
            expected.append(_dumps({"error": str(exc)}))
    for fast in (None, credit_line):
        assert serve(lines, generate, fast)[0] == expected
        assert serve([line.encode() for line in lines], generate, fast)[0] == expected


def test_chunks_of_a_dead_child_are_served_by_the_parent() -> None:
    from vending.sts.cli import serve_parallel

    lines = [json.dumps(_request(*PAIRS[n % len(PAIRS)], n)).encode() for n in range(PARALLEL_THRESHOLD + 7)]
    parent = os.getpid()

    def dies_in_the_child(request: Any) -> str | None:
        if os.getpid() != parent:
            os._exit(3)
        return credit_line(request)

    chunks, ok = serve_parallel(lines, generate, dies_in_the_child)
    expected, _ = serve(lines, generate)
    assert ok
    assert b"".join(chunks).decode().splitlines() == expected
