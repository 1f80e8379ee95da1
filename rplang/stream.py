"""`rpl eval --jsonl`: decide a stream of requests, one JSON line in, one JSON line out, in order.

With `--jobs N`, N forked worker processes decide blocks of lines and this process writes their
output in input order (`stream_workers`); memory stays flat however long the stream is.
"""
from __future__ import annotations

import io
import json
import os
import stat
import sys

import orjson

from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.runtime.request_text import read_request_json

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
        decision = policy.decide_partial(request, as_of=as_of) if partial else policy.decide(request, as_of)
        if outputs_only:
            return dumps({"outputs": decision.outputs_json()}), _DECIDED
        # a residual decision has no bytes of its own to write
        return (dumps(decision.to_json()) if partial else decision_bytes(decision)), _DECIDED
    except RplError as error:
        return dumps(line_error_json(error, number)), _REFUSED
    except Exception as error:  # noqa: BLE001 (a bug met on one line must not lose the others)
        return dumps({"error": internal_error_json(error) | {"line": number}}), _FAULT


def too_long_error(raw: TooLong, max_bytes: int = limits.MAX_REQUEST_BYTES) -> RequestError:
    return RequestError([RequestProblem(
        "$", f"the line is {raw.size:,} bytes, longer than the limit of {max_bytes:,} bytes")])


def line_request(raw: "bytes | TooLong", max_bytes: int = limits.MAX_REQUEST_BYTES) -> object:
    """One input line's request, read as the API reads the same bytes; an empty line, a line too
    long, or one that is not a JSON request is a RequestError."""
    if isinstance(raw, TooLong):
        raise too_long_error(raw, max_bytes)
    if not raw or raw.isspace():  # still one output line per input line, for those who zip them
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
                  max_bytes: int = limits.MAX_REQUEST_BYTES, partial: bool = False, lines=None,
                  progress=None) -> Tally:
    """Decide every line of `stream` (bytes) and write the decisions to `out` (bytes: UTF-8 JSON
    lines). In one process, `lines` are the stream's lines when the caller reads them itself (to
    show progress), else `read_lines`'. With `jobs` > 1 the stream is read in blocks, and
    `progress`, if given, is told the position reached in a regular file."""
    if jobs > 1:
        return _decide_in_workers(policy, stream, out, outputs_only, as_of, jobs, max_bytes, partial, progress)
    lines = read_lines(stream, max_bytes) if lines is None else lines
    tally = Tally()
    # decisions written a few at a time, joined: a write a line (and a copy to add its line feed)
    # cost more than the stream's every other step but deciding; as much is held back as `out`'s
    # own buffer would hold, so a pipe sees the first decisions as soon as it did
    held, size = [], 0
    try:
        for number, raw in enumerate(lines, 1):
            text, counted = decide_line(policy, number, raw, outputs_only, as_of, max_bytes, partial)
            if counted is not _DECIDED:
                tally.add(counted)
            held.append(text)
            size += len(text)
            if size >= _HELD_BYTES:
                held.append(b"")
                out.write(b"\n".join(held))
                held, size = [], 0
    finally:
        if held:
            held.append(b"")
            out.write(b"\n".join(held))
    return tally


_HELD_BYTES = io.DEFAULT_BUFFER_SIZE


# ---- Several processes --------------------------------------------------------------------------

def _decide_in_workers(policy, stream, out, outputs_only: bool, as_of, jobs: int, max_bytes: int,
                       partial: bool, progress) -> Tally:
    """Forked workers share the compiled policy as it is: generated code cannot be pickled, and
    compiling it again in each worker would cost more than deciding a block. A regular file
    (a path, or stdin redirected from one) is read by the workers themselves, range by range."""
    from rplang import stream_workers

    # the holiday calendar, loaded at the first business-day count: once here, shared by the
    # workers, rather than once in each (~75 ms of processor time apiece)
    policy.evaluator.calendar.prepare()
    tally = Tally()

    def decide_block(first: int, block) -> tuple[bytes, Tally]:
        """The output of a block of lines, the first numbered `first`: one object of bytes, the
        decisions joined, each with its line feed."""
        texts, counted = [], Tally()
        for number, raw in enumerate(block, first):
            text, one = decide_line(policy, number, raw, outputs_only, as_of, max_bytes, partial)
            texts.append(text)
            counted.add(one)
        texts.append(b"")
        return b"\n".join(texts), counted

    def lines_of(binary) -> object:
        return read_lines(binary, max_bytes)

    start = _file_position(stream)
    if start is None:
        stream_workers.decide_in_workers(stream_workers.PipeBlocks(stream, max_bytes), out, jobs, decide_block,
                                         lines_of, TooLong, tally)
        return tally
    # the workers read a descriptor of their own: a forked process's stdin is closed as it starts
    fd = os.dup(stream.fileno())
    try:
        ranges = stream_workers.FileRanges(fd, start, jobs)
        stream_workers.decide_in_workers(ranges, out, jobs, decide_block, lines_of, TooLong, tally, fd, progress)
    finally:
        os.close(fd)
    stream.seek(ranges.position)  # read to the end, as one process leaves it
    return tally


def _file_position(stream) -> int | None:
    """Where the lines of `stream` start, when it is a regular file (that workers can read by
    ranges); None for a pipe, a terminal or a buffer."""
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return stream.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def can_fork() -> bool:
    import multiprocessing

    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()
