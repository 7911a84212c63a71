"""The contract's refusal list: one {"error": ...} line each, exit 1, good lines still served."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

import pytest

from tests.sts.conftest import run_cli
from vending.sts import TidError, next_tid, tid_from_datetime
from vending.sts.tid import base_date_before, base_date_in_use

GOOD_METER = {"drn": "00000000000", "kt": 2, "sgc": "123456", "ti": 1, "krn": 1, "ea": "07", "dkga": "02",
              "vending_key": "abababababababab"}  # fmt: skip
GOOD_TOKEN = {"class": 0, "subclass": 0, "tid": 6472025, "rnd": 5, "units": 147824}


def _req(meter: dict | None = None, token: dict | None = None, **changes: object) -> str:
    m = dict(GOOD_METER, **(meter or {}))
    t = dict(GOOD_TOKEN, **(token or {}))
    return json.dumps({"meter": m, "token": t, **changes})


BAD = {
    "bad DRN check digit": (_req({"drn": "00000000001"}), "check digit"),
    "bad PAN check digit": (_req({"drn": None, "pan": "600727000000000008"}), "check digit"),
    "TID over 24 bits": (_req(token={"tid": 1 << 24}), "24 bits"),
    "negative TID": (_req(token={"tid": -1}), "negative"),
    "issued_at before base date": (
        _req(token={"tid": None, "issued_at": "1992-12-31T23:59"}),
        "before the base date",
    ),
    "issued_at after last minute": (
        _req(token={"tid": None, "issued_at": "2024-11-24T20:16"}),
        "key change",
    ),
    "amount over the maximum": (_req(token={"units": None, "kwh": "1820162.5"}), "1 820 162.4"),
    "units over the maximum": (_req(token={"units": 18_201_625}), "cannot carry"),
    "rnd over 15": (_req(token={"rnd": 16}), "rnd"),
    "rnd negative": (_req(token={"rnd": -1}), "rnd"),
    "short DKGA02 vending key": (_req({"vending_key": "abababababab"}), "DKGA02"),
    "DKGA04 with a 64-bit key": (_req({"dkga": "04"}), "DKGA04"),
    "unknown ea": (_req({"ea": "08"}), "unknown ea"),
    "unknown dkga": (_req({"dkga": "03"}), "unknown dkga"),
    "subclass as a decimal": (_req(token={"subclass": 1.0}), "subclass must be a whole number"),
    "subclass as a bool": (_req(token={"subclass": True}), "subclass must be a whole number"),
    "rnd as a string": (_req(token={"rnd": "5"}), "rnd must be a whole number"),
    "malformed JSON": ('{"meter": {', "malformed JSON"),
    "not a JSON object": ("[1, 2]", "object"),
}


def _clean(line: str) -> str:
    # Drop null fields used above to remove keys.
    data = json.loads(line)
    for part in ("meter", "token"):
        if isinstance(data, dict) and isinstance(data.get(part), dict):
            data[part] = {k: v for k, v in data[part].items() if v is not None}
    return json.dumps(data)


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_refused_line_gets_one_error_line_and_good_lines_are_served(case: str) -> None:
    bad_line, words = BAD[case]
    with contextlib.suppress(json.JSONDecodeError):  # the malformed-JSON case stays as it is
        bad_line = _clean(bad_line)
    good = _req()
    proc = run_cli("generate", [good, bad_line, good])
    assert proc.returncode == 1
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 3
    assert out[0] == out[2] and out[0]["tokens"][0]["token"] == "73561917813841338074"
    assert list(out[1]) == ["error"]
    assert words.lower() in out[1]["error"].lower()
    assert "abababab" not in proc.stdout.split("\n")[1]


def test_all_good_lines_exit_zero() -> None:
    proc = run_cli("generate", [_req(), _clean(_req(token={"units": None, "kwh": "25.5"}))])
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_decode_refusals() -> None:
    meter = GOOD_METER
    lines = [
        json.dumps({"meter": meter, "token": "1234"}),
        json.dumps({"meter": meter, "token": "99999999999999999999"}),
        json.dumps({"meter": meter, "token": "73561917813841338075"}),
        json.dumps({"meter": meter, "token": "73561917813841338074"}),
    ]
    proc = run_cli("decode", lines)
    assert proc.returncode == 1
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "20 digits" in out[0]["error"]
    assert "2^66" in out[1]["error"]
    assert "CRC" in out[2]["error"]
    assert out[3] == {"class": 0, "subclass": 0, "rnd": 5, "tid": 6472025, "units": 147824}


def test_next_tid_gives_successive_minutes_and_refuses_past_the_last_minute() -> None:
    now = datetime(2020, 5, 1, 10, 30, 45)
    first = next_tid(now, 1993, None)
    assert first == tid_from_datetime(now, 1993)
    second = next_tid(now, 1993, first)
    assert second == first + 1
    assert next_tid(now, 1993, second) == first + 2
    assert next_tid(now, 1993, first - 100) == first
    with pytest.raises(TidError):
        next_tid(datetime(2024, 11, 24, 20, 15), 1993, 0xFFFFFF)
    with pytest.raises(TidError):
        tid_from_datetime(datetime(2024, 11, 24, 20, 16), 1993)


@pytest.mark.parametrize(
    ("now", "base_date"),
    [
        (datetime(2024, 11, 24, 20, 15), 1993),  # 1993's last minute
        (datetime(2024, 11, 24, 20, 16), 2014),
        (datetime(2040, 1, 1), 2014),  # 2035 has begun, but 2014 still numbers tokens
        (datetime(2045, 11, 24, 20, 15), 2014),
        (datetime(2045, 11, 24, 20, 16), 2035),
    ],
)
def test_a_meter_made_now_gets_the_oldest_base_date_that_still_numbers_tokens(now: datetime, base_date: int) -> None:
    assert base_date_in_use(now) == base_date
    next_tid(now, base_date_in_use(now), None)  # its first token can be numbered


def test_no_base_date_numbers_tokens_before_1993_or_after_2035s_range() -> None:
    with pytest.raises(TidError):
        base_date_in_use(datetime(1992, 12, 31, 23, 59))
    with pytest.raises(TidError):
        base_date_in_use(datetime(2066, 11, 24, 20, 16))


def test_the_base_date_a_meter_rolls_over_from() -> None:
    assert [base_date_before(b) for b in (1993, 2014, 2035)] == [None, 1993, 2014]
