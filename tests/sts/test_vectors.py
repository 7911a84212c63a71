"""Every public vector, through the command line (one run) and through the Python API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sts.conftest import load_vectors, run_cli
from vending.sts import MeterConfig, credit_token, decode_token, derive_decoder_key
from vending.sts.requests import generate


def _matches(result: dict[str, Any], expect: dict[str, Any]) -> bool:
    return any(
        t["class"] == expect["class"] and t["subclass"] == expect["subclass"] and t["token"] == expect["token"]
        for t in result.get("tokens", [])
    )


def test_every_public_vector_through_the_cli(vectors: list[dict[str, Any]]) -> None:
    proc = run_cli("generate", [json.dumps(row["request"]) for row in vectors])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(vectors)
    pairs = zip(vectors, out, strict=True)
    failures = [row["id"] for row, line in pairs if not _matches(json.loads(line), row["expect"])]
    assert failures == []


@pytest.mark.parametrize("row", load_vectors(), ids=lambda row: row["id"])
def test_public_vector_through_the_api(row: dict[str, Any]) -> None:
    assert _matches(generate(row["request"]), row["expect"])


@pytest.mark.parametrize(
    "row",
    [r for r in load_vectors() if r["expect"]["class"] == 0 and "kwh" not in r["request"]["token"]],
    ids=lambda row: row["id"],
)
def test_credit_vectors_through_the_builder_and_back(row: dict[str, Any]) -> None:
    config = MeterConfig.from_dict(row["request"]["meter"])
    spec = row["request"]["token"]
    key = derive_decoder_key(config)
    token = credit_token(config, units=spec["units"], tid=spec["tid"], rnd=spec["rnd"], subclass=spec["subclass"])
    assert token.digits == row["expect"]["token"]
    decoded = decode_token(token.digits, config, decoder_key=key)
    assert (decoded.tid, decoded.fields["rnd"], decoded.subclass) == (spec["tid"], spec["rnd"], spec["subclass"])


def test_every_vector_decodes_back_through_the_cli(vectors: list[dict[str, Any]]) -> None:
    rows = [r for r in vectors if r["expect"]["class"] != 1]
    lines = [json.dumps({"meter": r["request"]["meter"], "token": r["expect"]["token"]}) for r in rows]
    proc = run_cli("decode", lines)
    assert proc.returncode == 0, proc.stdout
    for row, line in zip(rows, proc.stdout.splitlines(), strict=True):
        got = json.loads(line)
        assert (got["class"], got["subclass"]) == (row["expect"]["class"], row["expect"]["subclass"])
        token = row["request"]["token"]
        if "tid" in token:
            assert got["tid"] == token["tid"]
