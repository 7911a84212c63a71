"""Benchmark: ``python -m vending.sts generate`` as a whole process vs a straightforward version.

Builds three 20 000-line credit request files (distinct DRNs, so every line derives its own key):
EA07/DKGA02, EA11/DKGA04 and EA09/DKGA02. Runs the engine's CLI and bench/sts_naive.py on each,
several times, as subprocesses (python start-up and JSON in/out included), checks that both give
the same tokens, and prints median wall time, tokens/s and the speed-up as a Markdown table. It
also prints the engine's median CPU time (user + system, both processes) and the load average
before and after: on a shared machine wall times swing with other work, CPU time much less.

    .venv/bin/python bench/sts_generate.py [--lines 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vending.sts.identity import luhn_check_digit  # noqa: E402

CASES = (
    ("EA07", "07", "02", "abababababababab"),
    ("EA11", "11", "04", "abababababababab949494949494949401234567"),
    ("EA09", "09", "02", "0123456789abcdef"),
)


def requests_file(path: Path, ea: str, dkga: str, vending_key: str, lines: int) -> None:
    with path.open("w") as out:
        for i in range(lines):
            payload = f"{10_000_000 + i:010d}"
            meter = {"drn": payload + luhn_check_digit(payload), "sgc": "123456", "ti": 1, "krn": 1, "kt": 2,
                     "ea": ea, "dkga": dkga, "vending_key": vending_key}  # fmt: skip
            token = {"class": 0, "subclass": 0, "tid": 6_000_000 + i, "rnd": i % 16, "units": 10 + i * 7}
            out.write(json.dumps({"meter": meter, "token": token}) + "\n")


def timed(command: list[str], stdin: Path) -> tuple[float, bytes, float]:
    """(wall seconds, stdout, CPU seconds of the process and its children)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdin.open("rb") as inp:
        start = time.perf_counter()
        proc = subprocess.run(command, stdin=inp, capture_output=True, cwd=REPO, env=env, check=True)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, proc.stdout, cpu


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def tokens(output: bytes) -> list[str]:
    return [json.loads(line)["tokens"][0]["token"] for line in output.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = [sys.executable, "-m", "vending.sts", "generate"]
    naive = [sys.executable, str(REPO / "bench" / "sts_naive.py")]
    print(f"{args.lines} credit requests per file, distinct meters, median of {args.runs} runs, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load()} (1/5/15 min)\n")  # fmt: skip
    print("| algorithm | engine s | engine tokens/s | engine CPU s | naive s | naive tokens/s | speed-up |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, ea, dkga, key in CASES:
            path = Path(tmp) / f"{name}.jsonl"
            requests_file(path, ea, dkga, key, args.lines)
            fast = [timed(engine, path) for _ in range(args.runs)]
            slow = [timed(naive, path) for _ in range(max(1, args.runs // 2))]
            if tokens(fast[0][1]) != tokens(slow[0][1]):
                raise SystemExit(f"{name}: the engine and the naive version disagree")
            t_fast = statistics.median(t for t, _, _ in fast)
            cpu_fast = statistics.median(c for _, _, c in fast)
            t_slow = statistics.median(t for t, _, _ in slow)
            print(f"| {name}/DKGA{dkga} | {t_fast:.3f} | {args.lines / t_fast:,.0f} | {cpu_fast:.3f} | "
                  f"{t_slow:.3f} | {args.lines / t_slow:,.0f} | {t_slow / t_fast:.1f}x |")  # fmt: skip
    print(f"\nload average after: {load()}")


if __name__ == "__main__":
    main()
