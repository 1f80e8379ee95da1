"""A text input (JSON lines, CSV) read by the request reader in several forked processes:
`rpl replay --jobs N`.

Each file is cut into byte ranges that end on a line feed and numbered by their first line, as
`rpl eval --jobs N` cuts its input (stream_workers), and each worker reads its ranges with
rows.py's own reader: the same records, numbered the same, the same checks and rejects. A range
comes back as one Arrow record batch (its IPC message, spliced into a temporary file that has no
name, so that nothing is left behind however the run ends) with its rows' count and rejects;
this process writes the rejects and reads the batches, in input order.

The key columns' types are those the input's first `rows.BATCH` rows show, as in one process:
this process reads those rows first (the workers read them again), and the workers check every
row against the types, a row that does not fit being the same error, naming it. An input
without keys of its own is keyed by each row's place, of types known before any row is read.

A CSV file is cut on line feeds only if each of its rows is one line (no line feed within
quotes, no blank line, no carriage return alone): else the input is read in one process.
"""
from __future__ import annotations

import csv
import itertools
import os
from typing import TYPE_CHECKING

import attrs
import pyarrow as pa

from rplang.compiler import without_garbage_collection

from .columns import request_schema
from .errors import ReplayError
from .rows import (BATCH, cells_of_any_length, check_keys, csv_header, csv_rows, csv_text, key_schema, keyed_batches,
                   records, text_row, typed_batch, typed_batches, with_keys)
from .run import Counts
from .uris import is_uri

if TYPE_CHECKING:
    from .run import RejectsFile, Replay


def typed_input(replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts):
    """`rows.typed_batches`, read by `replay.jobs` processes where they can share the reading: a
    text input of local files (with keys of its own, of more than a batch of rows)."""
    source = replay.source
    if replay.jobs == 1 or source.format == "parquet" or any(is_uri(f) for f in source.files):
        return typed_batches(replay, keys, rejects, counts)
    starts = [(0, None) if source.format == "jsonl" else _rows_start(name) for name in source.files]
    if None in starts:  # a CSV row of several lines: no cut on a line feed is sure to fall between rows
        return typed_batches(replay, keys, rejects, counts)
    if not keys:  # a row's place: its number (and file), of the types the first batch would show
        place = text_row(source, keys, source.files[0], 1, {})[1]
        return _read_in_workers(replay, keys, key_schema(source, [], [place], keys), BATCH, starts, rejects,
                                counts)
    batches = keyed_batches(replay, keys)
    with without_garbage_collection():
        first = next(batches)
    if len(first[1]) < BATCH:  # the whole input: nothing to share
        return typed_batches(replay, keys, rejects, counts, itertools.chain([first], batches))
    batches.close()
    key_types, first_rows = first[0], len(first[1])
    del first
    return _read_in_workers(replay, keys, key_types, first_rows, starts, rejects, counts)


@attrs.frozen
class _Range:
    """What a worker read of a range, beside its batch: its rows, their rejects, the size of the
    batch's IPC message, or the error that stopped it."""
    rows: int
    refused: list
    size: int
    error: str | None = None


class _Taken:
    """The ranges' rows counted and their rejects written, in input order, as `decide_in_workers`
    hands them over; the first range's error, raised."""

    def __init__(self, rejects: RejectsFile, counts: Counts):
        self.rejects, self.counts, self.sizes = rejects, counts, []

    def add(self, read: _Range) -> None:
        if read.error is not None:
            raise ReplayError(read.error)
        self.counts.rows += read.rows
        self.rejects.write(read.refused)
        self.sizes.append(read.size)


def _read_in_workers(replay: Replay, keys: tuple[str, ...], key_types: pa.Schema, first_rows: int,
                     starts: list, rejects: RejectsFile, counts: Counts):
    import mmap
    import tempfile

    from rplang.stream_workers import FileRanges, WorkerLost, decide_in_workers

    source, policy = replay.source, replay.compiled
    request = request_schema(policy.checked)
    taken = _Taken(rejects, counts)
    with tempfile.TemporaryFile(prefix="rpl-replay-") as parts:
        for name, (start, header) in zip(source.files, starts):
            read_range, lines_of = _range_reader(replay, keys, key_types, first_rows, request, name, header)
            fd = os.open(name, os.O_RDONLY)
            try:
                # a range is always a byte range of the file, never a line too long to pass on
                decide_in_workers(FileRanges(fd, start, replay.jobs), parts, replay.jobs, read_range, lines_of,
                                  None, taken, fd)
            except WorkerLost as error:
                raise ReplayError(f"a worker process reading {name} ended before its rows were read "
                                  f"({error.how}); nothing was decided") from None
            finally:
                os.close(fd)
        parts.flush()
        # the batches read where they lie: the mapping outlives the file's descriptor
        mapped = pa.py_buffer(mmap.mmap(parts.fileno(), 0, access=mmap.ACCESS_READ)) if taken.sizes else None
    if not taken.sizes:  # no row: one empty batch, keyed as one process keys it (key_schema)
        yield pa.RecordBatch.from_pylist([], schema=with_keys(key_schema(source, [], [], keys), request))
        return
    schema = with_keys(key_types, request)
    offset = 0
    for size in taken.sizes:
        yield pa.ipc.read_record_batch(mapped.slice(offset, size), schema)
        offset += size


def _range_reader(replay: Replay, keys: tuple[str, ...], key_types: pa.Schema, first_rows: int,
                  request: pa.Schema, name: str, header: list[str] | None):
    """What a worker does with a range of the file `name` (`header`: a CSV file's, None for JSON
    lines): `read_range(first, lines_of(binary))`, its rows as one typed batch."""
    source, policy = replay.source, replay.compiled

    def read_range(first: int, lines) -> tuple[pa.Buffer | bytes, _Range]:
        counted = Counts()
        try:
            with without_garbage_collection():
                rows = []
                for file, number, raw in records(name, lines, first, header, policy.checked):
                    place, own, found = text_row(source, keys, file, number, raw)
                    check_keys(source, keys, place, own, key_types, first_rows)
                    rows.append((own, found))
                typed, refused = typed_batch(key_types, rows, policy, request, keys, counted)
        except ReplayError as error:
            return b"", _Range(0, [], 0, str(error))
        message = typed.serialize()
        return message, _Range(counted.rows, refused, message.size)

    def lines_of(binary):
        """A range's records as `records` reads them: JSON lines' lines, CSV's rows."""
        if header is None:
            return binary
        return csv_rows(csv.DictReader(csv_text(binary, "utf-8"), fieldnames=header))

    return read_range, lines_of


def _rows_start(name: str) -> tuple[int, list[str]] | None:
    """Where a CSV file's rows start (after its header's line) and its header, if every row is one
    line of the file; else None. csv counts a line at every line feed and at a carriage return
    alone (where it also ends a row, and a cut on line feeds does not): its count is one a row
    if no row is of several lines and no line is blank (no row, which csv skips), and the line
    feeds' count if no line ends in a carriage return alone."""
    with csv_text(open(name, "rb"), "utf-8-sig") as text, cells_of_any_length():
        reader = csv.reader(text)
        header = csv_header(name, next(reader, None))
        rows = sum(map(bool, reader))  # the rows that are not blank, counted without a Python step each
        if not header or reader.line_num != rows + 1:
            return None
    start, lines, last = None, 0, b""
    with open(name, "rb") as binary:
        position = 0
        while chunk := binary.read(1 << 20):
            if start is None and (found := chunk.find(b"\n")) >= 0:
                start = position + found + 1
            lines += chunk.count(b"\n")
            position, last = position + len(chunk), chunk[-1:]
    if lines + (last not in (b"", b"\n")) != reader.line_num:
        return None
    return (position if start is None else start), header
