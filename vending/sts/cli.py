"""``python -m vending.sts generate|decode|bench``: JSON lines in, JSON lines out, in order.

Stdin is read in one go and results are written in one go: per-line I/O would dominate the cost
of a token. A line that cannot be served gets ``{"error": ...}``; the exit status is then 1.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from vending.sts.errors import StsError

Handler = Callable[[Any], dict[str, Any]]
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_decoder = json.JSONDecoder(parse_float=Decimal)


def _error(message: str) -> str:
    return _dumps({"error": message})


def serve(lines: Iterable[bytes | str], handler: Handler) -> tuple[list[str], bool]:
    """Answer each non-blank line; returns the output lines and whether every line succeeded."""
    out: list[str] = []
    ok = True
    decode = _decoder.decode
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        try:
            request = decode(line)
        except ValueError as exc:
            out.append(_error(f"malformed JSON: {exc}"))
            ok = False
            continue
        try:
            out.append(_dumps(handler(request)))
        except StsError as exc:
            out.append(_error(str(exc)))
            ok = False
        except Exception as exc:  # a bug must not cost the other lines their answers
            out.append(_error(f"internal error ({type(exc).__name__}): the request could not be served"))
            ok = False
    return out, ok


# Below this many lines a second process costs more than it saves.
PARALLEL_THRESHOLD = 4000


def serve_parallel(lines: list[bytes], handler: Handler) -> tuple[list[str], bool]:
    """:func:`serve` split over two processes (fork), output kept in input order.

    The child serves the second half and sends its lines back through a pipe; the parent serves
    the first half meanwhile. Token generation is CPU-bound pure Python, so a second core nearly
    halves the wall time of a large batch. Falls back to one process where fork is unavailable.
    """
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or len(lines) < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return serve(lines, handler)
    half = len(lines) // 2
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: serve the second half, report, and leave without running atexit hooks
        os.close(read_fd)
        status = 1
        try:
            out, ok = serve(lines[half:], handler)
            payload = ("1" if ok else "0") + "\n".join(out)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    first, ok_first = serve(lines[:half], handler)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        # The child died: serve its half here rather than lose lines.
        second, ok_second = serve(lines[half:], handler)
    else:
        ok_second = payload[0] == "1"
        second = payload[1:].split("\n") if len(payload) > 1 else []
    return first + second, ok_first and ok_second


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "bench":
        from vending.sts.bench import main as bench_main

        return bench_main(args[1:])
    if command not in ("generate", "decode"):
        sys.stderr.write("usage: python -m vending.sts generate|decode < requests.jsonl > results.jsonl\n"
                         "       python -m vending.sts bench [count]\n")
        return 2
    from vending.sts import requests

    handler: Handler = requests.generate if command == "generate" else requests.decode
    # A one-shot batch allocates many small objects and builds no reference cycles: the cyclic
    # collector would only rescan the growing output list (about 12% of the run time).
    gc.disable()
    out, ok = serve_parallel(sys.stdin.buffer.read().splitlines(), handler)
    if out:
        sys.stdout.write("\n".join(out))
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0 if ok else 1
