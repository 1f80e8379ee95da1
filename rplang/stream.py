"""`rpl eval --jsonl`: decide a stream of requests, one JSON line in, one JSON line out, in order.

With `--jobs N`, N worker processes decide blocks of lines while this process reads the next
ones and writes the decisions in input order. At most a few blocks per worker are in flight, so
memory stays flat however long the stream is.
"""
from __future__ import annotations

import collections
import json
import sys

import orjson

from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.runtime.request_text import read_request_json

BLOCK = 1024  # lines a worker decides at a time: enough to make passing them on cheap
IN_FLIGHT = 3  # blocks per worker given out and not yet written


# decisions are trees of plain values, never circular: skip the check, line after line; compact,
# as orjson writes the other lines
_standard = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode


def dumps(data: object) -> bytes:
    """A decision (or an error) as one line of compact JSON in UTF-8, without its line feed.

    orjson writes a decision's JSON in a fifth of the standard library's time; the standard
    library takes what orjson refuses (an integer wider than 64 bits, which JSON allows)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return _standard(data).encode("utf-8")


def decision_bytes(decision) -> bytes:
    """A decision with its explanation as one line of compact JSON, as `dumps(decision.to_json())`
    writes it: written directly (`Decision.to_json_bytes`), or from the dicts by `dumps` when
    orjson cannot write it."""
    try:
        return decision.to_json_bytes()
    except TypeError:
        return dumps(decision.to_json())


class Tally:
    """What a stream came to: lines refused (request or evaluation errors), and lines that met a
    fault of rpl's own (a bug: reported on its line, and the stream goes on)."""

    __slots__ = ("rejected", "faults")

    def __init__(self, rejected: int = 0, faults: int = 0):
        self.rejected, self.faults = rejected, faults

    def add(self, other: "Tally") -> None:
        self.rejected += other.rejected
        self.faults += other.faults


# what one line counts for (never changed: only the stream's own tally is added to)
_DECIDED, _REFUSED, _FAULT = Tally(), Tally(rejected=1), Tally(faults=1)


class TooLong:
    """A line longer than the cap, in place of its bytes (which were skipped, not kept)."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


def decide_line(policy, number: int, raw: "bytes | TooLong", outputs_only: bool, as_of,
                max_bytes: int = limits.MAX_REQUEST_BYTES, partial: bool = False) -> tuple[bytes, Tally]:
    """One output line for input line `number` (JSON bytes, no line feed), and what it counts for;
    with `partial`, the residual decision (docs/residual.md) in place of the decision."""
    try:
        request = line_request(raw, max_bytes)
        if partial:
            decision = policy.decide_partial(request, as_of=as_of)
            return dumps({"outputs": decision.outputs_json()} if outputs_only else decision.to_json()), _DECIDED
        decision = policy.decide(request, as_of)
        return (dumps({"outputs": decision.outputs_json()}) if outputs_only else decision_bytes(decision)), _DECIDED
    except RplError as error:
        return dumps(line_error_json(error, number)), _REFUSED
    except Exception as error:  # noqa: BLE001 (a bug met on one line must not lose the others)
        return dumps({"error": internal_error_json(error) | {"line": number}}), _FAULT


def line_request(raw: "bytes | TooLong", max_bytes: int = limits.MAX_REQUEST_BYTES) -> object:
    """One input line's request, read as the API reads the same bytes; an empty line, a line too
    long, or one that is not a JSON request is a RequestError."""
    if isinstance(raw, TooLong):
        raise RequestError([RequestProblem(
            "$", f"the line is {raw.size:,} bytes, longer than the limit of {max_bytes:,} bytes")])
    if not raw.strip():  # still one output line per input line, for those who zip them
        raise RequestError([RequestProblem("$", "an empty line: expected a request")])
    # the request is the line without its line feed: the same bytes the API would be given
    return read_request_json(raw[:-1] if raw.endswith(b"\n") else raw, max_bytes)


def line_error_json(error: RplError, number: int) -> dict:
    """The output line for an input line that could not be decided: `{"error": {..., "line": N}}`."""
    data = error_json(error)
    data["line"] = number
    return {"error": data}


def error_json(error: RplError) -> dict:
    """A request error as its own JSON; any other error while deciding (a date out of range, a
    division by zero) as `evaluation_error`: either way this request could not be decided."""
    if isinstance(error, RequestError):
        return error.to_json()
    return {"kind": "evaluation_error", "message": str(error)}


def internal_error_json(error: Exception) -> dict:
    return {"kind": "internal_error", "message": f"{type(error).__name__}: {error}"}


def read_lines(stream, max_bytes: int):
    """The lines of a byte stream, each at most `max_bytes` long with its newline: a longer line
    is skipped in pieces, never held whole, and comes out as TooLong."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes:
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(64 * 1024)
            if not line:
                break
            size += len(line)
        yield TooLong(size)


def decide_stream(policy, stream, out, outputs_only: bool = False, as_of=None, jobs: int = 1,
                  max_bytes: int = limits.MAX_REQUEST_BYTES, partial: bool = False, lines=None) -> Tally:
    """Decide every line of `stream` (bytes) and write the decisions to `out` (bytes: UTF-8 JSON
    lines). `lines` are the stream's lines when the caller reads them itself (to show progress),
    else `read_lines`'."""
    lines = read_lines(stream, max_bytes) if lines is None else lines
    if jobs > 1:
        return _decide_in_workers(policy, lines, out, outputs_only, as_of, jobs, max_bytes, partial)
    tally = Tally()
    for number, raw in enumerate(lines, 1):
        text, counted = decide_line(policy, number, raw, outputs_only, as_of, max_bytes, partial)
        tally.add(counted)
        out.write(text + b"\n")
    return tally


# ---- Several processes --------------------------------------------------------------------------

_worker_policy = None  # the policy a worker decides with, inherited when the worker is forked


def _decide_block(first: int, block: list, outputs_only: bool, as_of, max_bytes: int,
                  partial: bool) -> tuple[bytes, Tally]:
    """The output of a block of lines, the first numbered `first`, as the bytes to write: one
    object to pass back, cheap to pickle, that the main process writes as it is."""
    lines, tally = [], Tally()
    for number, raw in enumerate(block, first):
        text, counted = decide_line(_worker_policy, number, raw, outputs_only, as_of, max_bytes, partial)
        lines.append(text)
        tally.add(counted)
    lines.append(b"")
    return b"\n".join(lines), tally


def _blocks(lines):
    """(number of its first line, its lines): the lines go as they are, numbered by position."""
    block: list = []
    first = 1
    for raw in lines:
        block.append(raw)
        if len(block) == BLOCK:
            yield first, block
            first += BLOCK
            block = []
    if block:
        yield first, block


def _quiet_worker() -> None:
    """A worker ends quietly with the process that started it, whatever it is waiting on.

    Writing to a pipe no one reads any more ends it (SIGPIPE, as any Unix filter), with no
    BrokenPipeError traceback; a worker blocked on a lock that a dead sibling held is ended by a
    watch on its parent. Ctrl-C is left to the main process, which stops the pool."""
    import os
    import signal
    import threading
    import time

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="rpl-parent-watch").start()


def _decide_in_workers(policy, lines, out, outputs_only: bool, as_of, jobs: int, max_bytes: int,
                       partial: bool) -> Tally:
    global _worker_policy
    # Forked workers share the compiled policy as it is: generated code cannot be pickled, and
    # compiling it again in each worker would cost more than deciding a block.
    _worker_policy = policy
    tally = Tally()
    import gc
    import multiprocessing  # here: most runs decide in one process, and start faster without it

    # The objects made so far (the policy, its code) are never freed: moved out of the collector's
    # sight, a worker's collections do not touch them, nor copy the memory it shares with this one.
    gc.freeze()
    _reuse_freed_memory()
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_quiet_worker) as pool:
        pending: collections.deque = collections.deque()
        for first, block in _blocks(lines):
            pending.append(pool.apply_async(_decide_block, (first, block, outputs_only, as_of, max_bytes, partial)))
            if len(pending) >= IN_FLIGHT * jobs:
                tally.add(_write(pending.popleft().get(), out))
        while pending:
            tally.add(_write(pending.popleft().get(), out))
    return tally


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _reuse_freed_memory() -> None:
    """Keep the memory of freed blocks for the next ones, here and in the workers forked after.

    A block's decisions are megabytes of bytes, made and freed block after block: the lines
    joined and pickled in a worker, received and unpickled here. glibc gives so large an
    allocation a mapping of its own and returns it to the system when it is freed, so that each
    block faults in fresh pages (about 90,000 faults for 20,000 lines; the main process's work
    halves without them). Served from the heap, and the heap not trimmed below 64 MB, the blocks
    reuse the same pages. On a C library without mallopt nothing changes."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)


def _write(result: tuple[bytes, Tally], out) -> Tally:
    text, tally = result
    out.write(text)
    return tally


def can_fork() -> bool:
    import multiprocessing

    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()
