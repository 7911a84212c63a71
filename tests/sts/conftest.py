"""Shared helpers for the STS engine tests (pure: no database, no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# The team's shared folder beside the checkout is the source; the copy in the repo keeps the tests
# meaningful in a checkout without it.
SHARED_VECTORS = REPO.parent / "shared" / "sts-vectors" / "public.jsonl"
VECTORS = SHARED_VECTORS if SHARED_VECTORS.exists() else Path(__file__).parent / "vectors" / "public.jsonl"


def load_vectors() -> list[dict[str, Any]]:
    vectors = [json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip()]
    assert len(vectors) >= 100, f"expected the public STS vectors in {VECTORS}"
    return vectors


def run_cli(command: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vending.sts <command>`` over JSON lines, in one process."""
    return subprocess.run(
        [sys.executable, "-m", "vending.sts", command],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def vectors() -> list[dict[str, Any]]:
    rows = load_vectors()
    if not rows:
        pytest.skip("public.jsonl not found")
    return rows
