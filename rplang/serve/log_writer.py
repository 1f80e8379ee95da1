"""The decision log's writer process, and the records the server hands it.

`python -m rplang.serve.log_writer FILE` is started by the server (`decision_log.DecisionLog`),
reads batches of records from its standard input and commits each batch to FILE in one
transaction (`log_file`: to the file FILE names at that moment, created anew if it was deleted or
moved away).

A batch is its length (4 bytes) and its records. A record is its kind (1 byte), the lengths of
its parts (4 bytes each), then the parts: for a decision, its small columns as a JSON array, the
request as received, the outputs' JSON and the rules' JSON; for a policy text, its columns as a
JSON array and the text. The server writes the bytes it already has (the request, the answer's
outputs) as they are, and this process reads them without parsing them again.

It stops at the end of its input only: the server starts it in a session of its own, and it
ignores SIGINT and SIGTERM besides, so a signal meant for the server (or its process group) lets
the server hand over what it holds, and lets this process write it. A batch of no records is a
check of FILE, which the server sends when it has had nothing to hand over for a second.

It tells the server its state (`log_health`) on its standard output, a JSON line each time it
changes: `{"state": ..., "lost": ..., "held": ...}`, the decisions lost since it started and those
held for a file that cannot be written. A batch that cannot be read (a fault of rpl's) is logged
with its size, counted as lost as far as it can be counted, and the next goes on.
"""
from __future__ import annotations

import functools
import logging
import math
import signal
import struct
import sys

import orjson

from .log_file import LogFile
from .log_store import log_time

log = logging.getLogger("rpl.serve")

DECISION, TEXT = 1, 2
_PARTS = {DECISION: struct.Struct("<4I"), TEXT: struct.Struct("<2I")}
_BATCH = struct.Struct("<I")


# ---- the server's side -------------------------------------------------------------------------

def decision_record(columns: tuple, request: bytes, outputs: bytes, rules: bytes) -> bytes:
    """`columns`: time (seconds since the epoch), request id, line, policy, version, text hash,
    outcome, as_of, partial."""
    head = orjson.dumps(columns)
    return b"".join((b"\x01", _PARTS[DECISION].pack(len(head), len(request), len(outputs), len(rules)),
                     head, request, outputs, rules))


def text_record(text_hash: str, policy: str, file: str, loaded_at: str, text: str) -> bytes:
    head, body = orjson.dumps((text_hash, policy, file, loaded_at)), text.encode("utf-8")
    return b"".join((b"\x02", _PARTS[TEXT].pack(len(head), len(body)), head, body))


def batch(records: list[bytes]) -> bytes:
    return _BATCH.pack(sum(map(len, records))) + b"".join(records)


# ---- this process ------------------------------------------------------------------------------

def read_batches(pipe):
    """Each batch's records, as bytes, until the end of the pipe."""
    while True:
        size = pipe.read(_BATCH.size)
        if len(size) == _BATCH.size:
            (length,) = _BATCH.unpack(size)
            records = pipe.read(length)
            if len(records) == length:
                yield records
                continue
        if size:  # the server died while handing a batch over
            log.error("the decision log's last batch was cut short; it is not written")
        return


def rows(records: bytes) -> tuple[list, list]:
    """The policy texts' rows and the decisions' rows of a batch, as the tables' columns."""
    texts, decisions = [], []
    at = 0
    while at < len(records):
        kind = records[at]
        lengths = _PARTS[kind].unpack_from(records, at + 1)
        at += 1 + _PARTS[kind].size
        parts = []
        for length in lengths:
            parts.append(records[at:at + length])
            at += length
        if kind == TEXT:
            texts.append((*orjson.loads(parts[0]), parts[1].decode("utf-8")))
        else:
            moment, *columns = orjson.loads(parts[0])
            decisions.append((time_text(moment), *columns, parts[1].decode("utf-8", "replace"),
                              parts[2].decode("utf-8"), parts[3].decode("utf-8")))
    return texts, decisions


def time_text(moment: float) -> str:
    """`log_store.log_time(moment)`, its date and second made once a second."""
    fraction, second = math.modf(moment)
    micros = round(fraction * 1_000_000)  # as `datetime` rounds a timestamp: half to even
    if micros == 1_000_000:
        second, micros = second + 1, 0
    return f"{_second_text(int(second))}.{micros // 1000:03d}+00:00"


@functools.lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    return log_time(second)[:19]  # YYYY-MM-DDTHH:MM:SS


def decisions_in(records: bytes) -> int:
    """How many decisions a batch holds, read from its records' kinds and lengths only."""
    count, at = 0, 0
    while at < len(records) and records[at] in _PARTS:
        kind = records[at]
        count += kind == DECISION
        at += 1 + _PARTS[kind].size + sum(_PARTS[kind].unpack_from(records, at + 1))
    return count


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_file = LogFile(argv[0])
    told = None
    for records in read_batches(sys.stdin.buffer):
        # a fault here must not stop the log: say what was lost, and count it
        try:
            texts, decisions = rows(records)
        except Exception:
            log.exception("the decision log could not read a batch of %d bytes", len(records))
            try:
                log_file.lost += decisions_in(records)
            except Exception:  # records that cannot even be walked: counted as one
                log_file.lost += 1
        else:
            try:
                log_file.write(texts, decisions)
            except Exception:  # its decisions counted as lost by `write`
                log.exception("the decision log failed to write a batch of %d bytes", len(records))
        told = tell(log_file, told)
    log_file.close()
    tell(log_file, told)


def tell(log_file: LogFile, told: bytes | None) -> bytes:
    """Write the writer's state for the server when it changed since `told`; what was written."""
    state = orjson.dumps({"state": log_file.state, "lost": log_file.lost, "held": log_file.held}) + b"\n"
    if state != told:
        try:
            sys.stdout.buffer.write(state)
            sys.stdout.buffer.flush()
        except OSError:  # the server is gone: nobody to tell
            pass
    return state


if __name__ == "__main__":
    main(sys.argv[1:])
