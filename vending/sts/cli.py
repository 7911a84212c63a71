"""``python -m vending.sts generate|decode|bench``: JSON lines in, JSON lines out, in order.

Stdin is read in one go and results are written in one go: per-line I/O would dominate the cost
of a token. A line that cannot be served gets ``{"error": ...}``; the exit status is then 1.

Speed (bench/sts_generate.py, docs/BENCHMARKS.md): ``generate`` tries ``fastpath.credit_line``
on each request first (plain credit requests by vending key, answered without the general
machinery); anything else, including every refusal, goes through ``requests.generate``. Large
batches are spread over two processes. Start-up is kept small: ``vending.sts`` loads its exports
lazily and the general handler is imported only when a line needs it.
"""

from __future__ import annotations

import gc
import json
import os
import struct
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal

from vending.sts.errors import StsError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    Handler: TypeAlias = Callable[[Any], dict[str, Any]]
    FastPath: TypeAlias = Callable[[Any], str | None]
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_decoder = json.JSONDecoder(parse_float=Decimal)


def _error(message: str) -> str:
    return _dumps({"error": message})


def serve(lines: Iterable[bytes | str], handler: Handler, fast: FastPath | None = None) -> tuple[list[str], bool]:
    """Answer each non-blank line; returns the output lines and whether every line succeeded.

    ``fast``, if given, is tried first on each parsed request: it returns the finished output line
    or None, and a None (or any exception from it) sends the request to ``handler`` as usual.
    """
    out: list[str] = []
    append = out.append
    ok = True
    decode = _decoder.decode
    # decode() = skip whitespace, scan_once, skip whitespace, refuse extra data. A line that is one
    # JSON value from its first character to its last needs only the scan; any other goes through
    # decode(), which gives the same value or the exact error message.
    scan = _decoder.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__; typeshed omits it
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        try:
            request, end = scan(line, 0)
        except (StopIteration, ValueError):
            end = -1
        if end != len(line):
            try:
                request = decode(line)
            except ValueError as exc:
                append(_error(f"malformed JSON: {exc}"))
                ok = False
                continue
        if fast is not None:
            try:
                done = fast(request)
            except Exception:
                done = None  # the general path below gives the answer or the error
            if done is not None:
                append(done)
                continue
        try:
            append(_dumps(handler(request)))
        except StsError as exc:
            append(_error(str(exc)))
            ok = False
        except Exception as exc:  # a bug must not cost the other lines their answers
            append(_error(f"internal error ({type(exc).__name__}): the request could not be served"))
            ok = False
    return out, ok


def _text(out: list[str]) -> bytes:
    return ("\n".join(out) + "\n").encode() if out else b""


# Below this many lines a second process costs more than it saves.
PARALLEL_THRESHOLD = 2000
# Lines per unit of work handed out between the two processes (see serve_parallel).
CHUNK_LINES = 256
_RECORD = struct.Struct("<IBI")  # chunk number, 1 if every line succeeded, length of its text


def serve_parallel(lines: list[bytes], handler: Handler, fast: FastPath | None = None) -> tuple[list[bytes], bool]:
    """:func:`serve` split over two processes (fork), output kept in input order.

    Returns the output as encoded chunks (each line ending in a newline) to write in order. The
    lines are cut into chunks whose numbers wait in a pipe; parent and child each take the next
    number when done with the last (a read of a few bytes from a pipe is atomic), so a process
    slowed down by other load on the machine simply serves fewer chunks. The child keeps its
    answers until the queue is empty, then sends them in one write, tagged with their chunk
    numbers. Token generation is CPU-bound pure Python, so a second core nearly halves the wall
    time of a large batch. Falls back to one process where fork is unavailable.
    """
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or len(lines) < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        out, ok = serve(lines, handler, fast)
        return [_text(out)], ok
    size = max(CHUNK_LINES, -(-len(lines) // 4096))
    count = -(-len(lines) // size)
    queue_read, queue_write = os.pipe()
    # At most 4096 numbers of 4 bytes: 16 KiB, well inside a pipe's buffer, so this never blocks.
    os.write(queue_write, b"".join(n.to_bytes(4, "little") for n in range(count)))
    os.close(queue_write)  # an empty queue now reads as end of file
    result_read, result_write = os.pipe()

    def take() -> int | None:
        number = os.read(queue_read, 4)
        return int.from_bytes(number, "little") if len(number) == 4 else None

    def serve_chunk(number: int) -> tuple[bytes, bool]:
        out, ok = serve(lines[number * size : (number + 1) * size], handler, fast)
        return _text(out), ok

    pid = os.fork()
    if pid == 0:  # child: serve chunks until none are left, report, leave without atexit hooks
        os.close(result_read)
        status = 1
        try:
            records = []
            while (number := take()) is not None:
                text, ok = serve_chunk(number)
                records.append(_RECORD.pack(number, ok, len(text)))
                records.append(text)
            with os.fdopen(result_write, "wb") as pipe:
                pipe.write(b"".join(records))
            status = 0
        finally:
            os._exit(status)
    os.close(result_write)
    done: dict[int, tuple[bytes, bool]] = {}
    while (number := take()) is not None:
        done[number] = serve_chunk(number)
    os.close(queue_read)
    with os.fdopen(result_read, "rb") as results:
        payload = results.read()
    _, status = os.waitpid(pid, 0)
    if status == 0:
        view, at = memoryview(payload), 0
        while at + _RECORD.size <= len(payload):
            number, ok, length = _RECORD.unpack_from(view, at)
            at += _RECORD.size
            done[number] = (bytes(view[at : at + length]), bool(ok))
            at += length
    for number in range(count):
        if number not in done:  # the child died: serve its chunks here rather than lose lines
            done[number] = serve_chunk(number)
    return [done[n][0] for n in range(count)], all(done[n][1] for n in range(count))


def _general(command: str) -> Handler:
    """The request handler, imported on first use: a batch the fast path serves never needs it."""
    handler: Handler | None = None

    def serve_one(request: Any) -> dict[str, Any]:
        nonlocal handler
        if handler is None:
            from vending.sts import requests

            handler = requests.generate if command == "generate" else requests.decode
        return handler(request)

    return serve_one


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "bench":
        from vending.sts.bench import main as bench_main

        return bench_main(args[1:])
    if command not in ("generate", "decode"):
        sys.stderr.write(
            "usage: python -m vending.sts generate|decode < requests.jsonl > results.jsonl\n"
            "       python -m vending.sts bench [count]\n"
        )
        return 2
    fast: FastPath | None = None
    if command == "generate":
        from vending.sts.fastpath import credit_line

        fast = credit_line
    # A one-shot batch allocates many small objects and builds no reference cycles: the cyclic
    # collector would only rescan the growing output list (about 12% of the run time).
    gc.disable()
    chunks, ok = serve_parallel(sys.stdin.buffer.read().splitlines(), _general(command), fast)
    sys.stdout.flush()
    out = sys.stdout.buffer
    for chunk in chunks:
        out.write(chunk)
    out.flush()
    return 0 if ok else 1
