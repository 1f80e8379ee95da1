"""`rpl eval --jsonl`: decide a stream of requests, one JSON line in, one JSON line out, in order.

With `--jobs N`, N worker processes decide blocks of lines while this process reads the next
ones and writes the decisions in input order. At most a few blocks per worker are in flight, so
memory stays flat however long the stream is.
"""
from __future__ import annotations

import collections
import json
import sys

from rplang.policy_lang.errors import RequestError, RequestProblem, RplError

BLOCK = 256  # lines a worker decides at a time: enough to make passing them on cheap
IN_FLIGHT = 3  # blocks per worker given out and not yet written


# decisions are trees of plain values, never circular: skip the check, line after line
_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def decide_line(policy, number: int, raw: bytes, outputs_only: bool, as_of) -> tuple[str, bool]:
    """One output line for input line `number`, and whether it is an error."""
    try:
        decision = policy.decide_json(line_text(raw), as_of)
        return _dumps({"outputs": decision.outputs_json()} if outputs_only else decision.to_json()), False
    except RplError as error:
        return _dumps(line_error_json(error, number)), True


def line_text(raw: bytes) -> str:
    """One input line as text; an empty line or bytes that are not UTF-8 are request errors."""
    if not raw.strip():  # still one output line per input line, for those who zip them
        raise RequestError([RequestProblem("$", "an empty line: expected a request")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError([RequestProblem("$", f"not valid UTF-8: {error.reason}")]) from None


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


def decide_stream(policy, stream, out, outputs_only: bool = False, as_of=None, jobs: int = 1) -> int:
    """Decide every line of `stream` (bytes) and write the decisions to `out`; the number of
    lines that could not be decided."""
    if jobs > 1:
        return _decide_in_workers(policy, stream, out, outputs_only, as_of, jobs)
    rejected = 0
    for number, raw in enumerate(stream, 1):
        text, failed = decide_line(policy, number, raw, outputs_only, as_of)
        rejected += failed
        out.write(text + "\n")
    return rejected


# ---- Several processes --------------------------------------------------------------------------

_worker_policy = None  # the policy a worker decides with, inherited when the worker is forked


def _decide_block(block: list[tuple[int, bytes]], outputs_only: bool, as_of) -> tuple[str, int]:
    lines, rejected = [], 0
    for number, raw in block:
        text, failed = decide_line(_worker_policy, number, raw, outputs_only, as_of)
        lines.append(text + "\n")
        rejected += failed
    return "".join(lines), rejected


def _blocks(stream):
    block = []
    for number, raw in enumerate(stream, 1):
        block.append((number, raw))
        if len(block) == BLOCK:
            yield block
            block = []
    if block:
        yield block


def _decide_in_workers(policy, stream, out, outputs_only: bool, as_of, jobs: int) -> int:
    global _worker_policy
    # Forked workers share the compiled policy as it is: generated code cannot be pickled, and
    # compiling it again in each worker would cost more than deciding a block.
    _worker_policy = policy
    rejected = 0
    import multiprocessing  # here: most runs decide in one process, and start faster without it

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: collections.deque = collections.deque()
        for block in _blocks(stream):
            pending.append(pool.apply_async(_decide_block, (block, outputs_only, as_of)))
            if len(pending) >= IN_FLIGHT * jobs:
                rejected += _write(pending.popleft().get(), out)
        while pending:
            rejected += _write(pending.popleft().get(), out)
    return rejected


def _write(result: tuple[str, int], out) -> int:
    text, rejected = result
    out.write(text)
    return rejected


def can_fork() -> bool:
    import multiprocessing

    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()
