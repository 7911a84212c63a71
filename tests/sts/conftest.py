"""Shared helpers for the STS engine tests (pure: no database, no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = Path("/work/shared/sts-vectors/public.jsonl")
if not VECTORS.exists():  # a checkout next to the shared folder
    VECTORS = REPO.parent / "shared" / "sts-vectors" / "public.jsonl"


def load_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        return []
    return [json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip()]


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
