"""Shared helpers for the STS engine tests (pure: no database, no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# The public STS vectors, kept in the repository (docs/STS.md says where they come from).
VECTORS = Path(__file__).parent / "vectors" / "public.jsonl"


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
